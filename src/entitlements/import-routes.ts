import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { CustodianError, tooLarge } from '../errors.js'
import type { Node } from '../kernel/node.js'
import { AnyObject, FileName } from '../kernel/schemas.js'
import { bearer, bearerToken } from '../openapi/bearer-auth.js'
import { ProblemSchema } from '../openapi/route-docs.js'
import { importEntitlements } from './entitlement-import.js'

/**
 * The largest body POST /v1/imports/entitlements takes: about a million rows. The whole file is held in memory
 * while it is checked, and the write holds the store's write lock; larger files go through the CLI.
 */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024

/** The body as it arrives, refused once it passes MAX_IMPORT_BYTES. */
async function* limited(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let bytes = 0
  for await (const chunk of body) {
    bytes += chunk.length
    if (bytes > MAX_IMPORT_BYTES)
      throw tooLarge(
        `the import is larger than ${MAX_IMPORT_BYTES} bytes: split it, or use custodian import entitlements`,
      )
    yield chunk
  }
}

/** POST /v1/imports/entitlements: `custodian import entitlements` over HTTP (docs/import-entitlements.md). */
export const importRoutes: FastifyPluginAsyncTypebox<{ custodian: Node }> = async (app, { custodian }) => {
  // Handed over as a stream: measured while it is read, never buffered whole.
  app.addContentTypeParser(['application/x-ndjson', 'text/csv'], (_request, payload, done) =>
    done(null, payload),
  )
  app.post(
    '/v1/imports/entitlements',
    {
      schema: {
        summary:
          'Import permissions, roles, resources, resource roles, users, credentials and grants, all or nothing (administrators): JSON Lines (application/x-ndjson) or CSV (text/csv) with a type column, at most 64 MiB',
        tags: ['users'],
        security: bearer,
        querystring: Type.Object(
          {
            name: Type.Optional(FileName),
          },
          { additionalProperties: false },
        ),
        response: { 200: AnyObject, '4xx': ProblemSchema },
      },
    },
    async (request, reply) => {
      const csv = /^text\/csv/i.test(request.headers['content-type'] ?? '')
      const outcome = await importEntitlements(
        custodian,
        bearerToken(request),
        {
          name: request.query.name ?? (csv ? 'upload.csv' : 'upload.jsonl'),
          format: csv ? 'csv' : 'jsonl',
          chunks: limited(request.body as AsyncIterable<Buffer>),
        },
        { catchUp: true },
      )
      if (!outcome.ok) {
        const first = outcome.problems[0]
        const count = outcome.problems.length + outcome.more
        throw new CustodianError(
          'Validation',
          `nothing imported: ${count} problem(s), the first on line ${first?.line}${first?.field ? ` (${first.field})` : ''}: ${first?.message}`,
          { problems: outcome.problems, more: outcome.more },
        )
      }
      reply.header('custodian-revision', String(outcome.result.revision))
      return outcome.result
    },
  )
}
