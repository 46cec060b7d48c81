import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { Node } from '../kernel/node.js'
import { AnyObject, FileName } from '../kernel/schemas.js'
import { bearer, bearerToken } from '../openapi/bearer-auth.js'
import { ProblemSchema } from '../openapi/route-docs.js'
import { UsageDataService } from './usage-data-service.js'

/**
 * Green Button data in (issue 5): the back office's files, an ESPI Atom document or a CSV of interval
 * readings, streamed into one transaction each.
 */
export const usageDataRoutes: FastifyPluginAsyncTypebox<{ custodian: Node }> = async (app, { custodian }) => {
  const usageData = new UsageDataService(custodian)
  // The body is handed over as a stream: files of hundreds of MB are read as they arrive.
  app.addContentTypeParser(
    ['application/xml', 'application/atom+xml', 'text/xml', 'text/csv'],
    { bodyLimit: 4 * 1024 ** 3 },
    (_request, payload, done) => done(null, payload),
  )
  app.post(
    '/v1/usage-data',
    {
      schema: {
        summary:
          'Publish usage data (administrators): a Green Button (ESPI Atom) document, or a CSV of interval readings (usage_point,start,duration,value[,cost][,quality]) sent as text/csv',
        tags: ['green button'],
        security: bearer,
        querystring: Type.Object(
          {
            name: Type.Optional(FileName),
            usage_point: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 200,
                description: 'every usage point of the file is this Custodian usage point',
              }),
            ),
            map: Type.Optional(
              Type.String({
                minLength: 3,
                maxLength: 20000,
                pattern: '^[^:,]+:[^:,]+(,[^:,]+:[^:,]+)*$',
                description: "the file's usage point ids to Custodian's: FILEID:ID,FILEID:ID",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: AnyObject,
          '4xx': ProblemSchema,
          503: {
            ...ProblemSchema,
            description: 'maxConcurrentImports imports are running: try again after Retry-After',
          },
        },
      },
    },
    async (request) => {
      const q = request.query
      const csv = /^text\/csv/i.test(request.headers['content-type'] ?? '')
      return usageData.import(bearerToken(request), {
        name: q.name ?? (csv ? 'upload.csv' : 'upload.xml'),
        format: csv ? 'csv' : 'xml',
        chunks: request.body as AsyncIterable<Buffer>,
        mapping: {
          ...(q.usage_point ? { usagePoint: q.usage_point } : {}),
          ...(q.map ? { map: Object.fromEntries(q.map.split(',').map((pair) => pair.split(':'))) } : {}),
        },
      })
    },
  )
}
