import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { CATCHING_UP } from '../kernel/kernel.js'
import type { Node } from '../kernel/node.js'
import { documented, jsonBody } from './route-docs.js'

/** The server's own routes: whether it is alive, and the description of its API (this document). */
export const healthRoutes: FastifyPluginAsync<{ custodian: Node }> = async (app, { custodian }) => {
  app.get(
    '/health',
    {
      schema: {
        summary: 'Liveness: answers ok and the store revision this node has read',
        tags: ['health'],
        response: {
          200: Type.Object(
            {
              status: Type.Literal('ok'),
              revision: Type.Integer({ minimum: 0, description: 'The store revision this node has read' }),
            },
            { description: 'Alive' },
          ),
        },
      },
    },
    async () => ({ status: 'ok' as const, revision: custodian.revision }),
  )
  app.get(
    '/health/live',
    {
      schema: {
        summary: 'Liveness for load balancers: the process answers (it does not ask the store)',
        tags: ['health'],
        response: { 200: Type.Object({ status: Type.Literal('live') }, { description: 'Alive' }) },
      },
    },
    async () => ({ status: 'live' as const }),
  )
  const Readiness = Type.Object({
    status: Type.Union([Type.Literal('ready'), Type.Literal('unready')]),
    revision: Type.Integer({ minimum: 0, description: 'The store revision this node has read' }),
    staleness_ms: Type.Integer({
      minimum: 0,
      description: 'Milliseconds since this node last read or wrote its store',
    }),
    reason: Type.Optional(Type.String()),
  })
  app.get(
    '/health/ready',
    {
      schema: {
        summary:
          'Readiness for load balancers: the store answers and this node has read it within maxStaleness',
        tags: ['health'],
        response: {
          200: { ...Readiness, description: 'Ready: send it traffic' },
          503: { ...Readiness, description: 'Not ready: the store is unreachable, or this node is behind' },
        },
      },
    },
    async (_request, reply) => {
      const reason = await unreadiness(custodian)
      const state = { revision: custodian.revision, staleness_ms: custodian.staleness }
      if (reason === undefined) return { status: 'ready' as const, ...state }
      return reply.code(503).send({ status: 'unready' as const, ...state, reason })
    },
  )
  app.get(
    '/openapi.json',
    documented({
      summary: 'This OpenAPI 3.1 document: every route the server answers',
      tags: ['health'],
      response: { 200: jsonBody('The OpenAPI document') },
    }),
    async () => app.swagger(),
  )
}

/** How long a readiness probe waits for the store. */
const PING_TIMEOUT_MS = 2_000

/** Why this node should not get traffic now, if it should not. */
async function unreadiness(custodian: Node): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`the store did not answer within ${PING_TIMEOUT_MS} ms`),
      PING_TIMEOUT_MS,
    )
  })
  // Unauthenticated: the cause (hosts, ports) goes to the log, not to the caller.
  const ping = custodian.store.ping().then(
    () => undefined,
    (error: Error) => {
      custodian.log.warn({ err: error }, 'readiness: the store cannot be reached')
      return 'the store cannot be reached'
    },
  )
  const unreachable = await Promise.race([ping, timeout]).finally(() => clearTimeout(timer))
  if (unreachable) return unreachable
  if (custodian.catchingUp) return CATCHING_UP
  if (!custodian.fresh)
    return `this node last reached its store ${custodian.staleness} ms ago (maxStaleness ${custodian.config.maxStaleness} s)`
  return undefined
}
