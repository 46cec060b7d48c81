import { type TObject, type TSchema, Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import type { ChangeResult, Custodian } from '../custodian.js'
import { permissionFor } from '../entitlements/permissions.js'
import { describePermission, invoke, isChange, type Operation } from '../kernel/operations.js'
import { bearer, bearerToken } from '../openapi/bearer-auth.js'
import { ProblemSchema } from '../openapi/route-docs.js'

const pick = (input: TObject, names: string[]) =>
  Type.Object(Object.fromEntries(names.map((n) => [n, input.properties[n] as TSchema])), {
    additionalProperties: false,
  })

/**
 * An operation's route schema: path parameters are the input fields named in the path; for GET and DELETE
 * the other fields are the query, otherwise the body (the whole input when no field is in the path).
 */
function requestSchema(op: Operation, method: string, path: string) {
  const named = [...path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] as string)
  const input = op.input as TObject
  const fields = input.type === 'object' ? Object.keys(input.properties) : []
  const rest = fields.filter((f) => !named.includes(f))
  const schema: Record<string, TSchema> = {}
  if (named.length > 0) schema.params = pick(input, named)
  if (method === 'GET' || method === 'DELETE') {
    if (rest.length > 0) schema.querystring = pick(input, rest)
  } else if (named.length === 0) {
    schema.body = op.input
  } else if (rest.length > 0) {
    schema.body = pick(input, rest)
  }
  return schema
}

/** The plugin that registers a route for every operation of the tables that has an `http` form. */
export const operationRoutes: FastifyPluginAsync<{
  custodian: Custodian
  tables: readonly (readonly Operation[])[]
}> = async (app, { custodian, tables }) => {
  for (const op of tables.flat()) {
    if (!op.http) continue
    const { method, path, status = 200, headers = {} } = op.http
    app.route({
      method,
      url: path,
      schema: {
        operationId: op.name,
        summary: op.summary,
        description: [op.description, describePermission(op, permissionFor(op.name))]
          .filter(Boolean)
          .join(' '),
        tags: op.tags,
        ...(op.permission === 'public' ? {} : { security: bearer }),
        ...requestSchema(op, method, path),
        response: { [status]: op.output, '4xx': ProblemSchema },
      },
      handler: async (request, reply) => {
        const input = {
          ...(request.body as object | undefined),
          ...(request.query as object | undefined),
          ...(request.params as object | undefined),
        }
        const context = {
          custodian,
          token: bearerToken(request),
          address: request.ip,
          // Links are on the configured public URL, never on the Host header the client chose.
          baseUrl: custodian.publicUrl,
        }
        const output = await invoke(op, context, input)
        reply.code(status).headers(headers)
        if (!isChange(op)) return output
        const { revision, summary, details } = output as ChangeResult
        reply.header('custodian-revision', String(revision))
        return { ...details, revision, summary }
      },
    })
  }
}
