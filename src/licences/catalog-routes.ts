import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { Node } from '../kernel/node.js'
import { AnyObject } from '../kernel/schemas.js'
import { bearer, bearerToken } from '../openapi/bearer-auth.js'
import { ProblemSchema } from '../openapi/route-docs.js'
import { CatalogService } from './catalog-service.js'

const tags = ['trust framework']

/**
 * The trust-framework catalog as Turtle (issue 6): data services, licence interpretations and participants
 * loaded from a Turtle body, and exported as one. Its other routes are operations (operations.ts).
 */
export const catalogRoutes: FastifyPluginAsyncTypebox<{ custodian: Node }> = async (app, { custodian }) => {
  const catalog = new CatalogService(custodian)
  app.addContentTypeParser(
    'text/turtle',
    { parseAs: 'string', bodyLimit: 5 * 1024 * 1024 },
    (_r, body, done) => done(null, body),
  )
  app.post(
    '/v1/catalog',
    {
      schema: {
        summary:
          'Load catalog entries (dcat:DataService) and licence interpretations (ib1:LicenceInterpretation) from a Turtle body, all or nothing (administrators)',
        tags,
        security: bearer,
        querystring: Type.Object(
          {
            name: Type.Optional(
              Type.String({ minLength: 1, maxLength: 200, description: 'named in messages' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: AnyObject, '4xx': ProblemSchema },
      },
    },
    async (request, reply) => {
      const result = await catalog.load(
        bearerToken(request),
        String(request.body),
        request.query.name ?? 'body',
      )
      reply.header('custodian-revision', String(result.revision))
      return { revision: result.revision, summary: result.summary }
    },
  )
  app.get(
    '/v1/catalog',
    {
      schema: {
        summary: 'The catalog and the licence interpretations as Turtle (administrators)',
        tags,
        security: bearer,
      },
    },
    async (request, reply) => reply.type('text/turtle').send(catalog.export(bearerToken(request))),
  )
}
