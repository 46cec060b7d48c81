import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, RawServerDefault } from 'fastify'
import type { Node } from '../kernel/node.js'
import type { Logger } from '../logger.js'
import { bearerToken } from '../openapi/bearer-auth.js'
import { body, documented, problemBody } from '../openapi/route-docs.js'
import { problem, sendProblem } from './problem.js'

const digest = (text: string) => createHash('sha256').update(text).digest()

/** Whether `given` is the configured token, compared in constant time (digests: equal lengths). */
const isMetricsToken = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected))

/**
 * GET /metrics, and the request timings it reports. Called on the root instance (not registered as a
 * plugin), so that its hook sees every route's answers. Who may scrape: whoever holds the metricsToken
 * setting, a credential of its own (a scraper is not a user, and the numbers tell an attacker how busy and
 * how far behind a node is); without the setting, /metrics does not answer.
 */
type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, TypeBoxTypeProvider>

export function metricsRoutes(app: App, custodian: Node): void {
  const { registry } = custodian.metrics
  const requests = custodian.metrics.serving()
  // One line a request (Fastify's own two are turned off in app.ts), and its timing; the route's pattern,
  // not its URL, so that ids do not make a series each.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    const ms = reply.elapsedTime
    requests.observe({ method: request.method, route, status: reply.statusCode }, ms / 1000)
    request.log.info(
      { status: reply.statusCode, ms: Math.round(ms) },
      `${request.method} ${request.url} ${reply.statusCode} ${ms.toFixed(1)} ms`,
    )
  })
  app.get(
    '/metrics',
    documented({
      summary: 'This node’s metrics in the Prometheus text format (docs/operations.md lists them)',
      description:
        'For a Prometheus scraper holding the metricsToken setting (bearer_token in its scrape config); answers 404 while that setting is empty.',
      tags: ['health'],
      security: [{ metricsToken: [] }],
      response: {
        200: body('The metrics', 'text/plain; version=0.0.4'),
        401: problemBody('No token, or not the metrics token'),
        404: problemBody('Metrics are not served: metricsToken is not set'),
      },
    }),
    async (request, reply) => {
      const expected = custodian.config.metricsToken
      if (!expected)
        return sendProblem(
          reply,
          problem('NotFound', 404, 'metrics are not served: set metricsToken (CUSTODIAN_METRICS_TOKEN)'),
        )
      const given = bearerToken(request)
      if (!given || !isMetricsToken(given, expected)) {
        return sendProblem(
          reply,
          problem(
            'InvalidAccessToken',
            401,
            'GET /metrics needs the metrics token: send Authorization: Bearer <metricsToken>',
          ),
        )
      }
      const text = await registry.metrics()
      return reply.type(registry.contentType).send(text)
    },
  )
}
