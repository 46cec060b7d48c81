import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { LogController } from 'fastify'
import { ConsentService } from '../consent/consent-service.js'
import { consentOperations } from '../consent/operations.js'
import { consoleRoutes } from '../console/routes.js'
import type { Custodian } from '../custodian.js'
import { type DemoThirdParty, demoThirdPartyRoutes } from '../demo/demo.js'
import { importRoutes } from '../entitlements/import-routes.js'
import { entitlementOperations } from '../entitlements/operations.js'
import { invalid, RETRY_AFTER_SECONDS } from '../errors.js'
import { espiResourceRoutes } from '../greenbutton/espi-routes.js'
import { usageDataRoutes } from '../greenbutton/usage-data-routes.js'
import { housemateOperations } from '../housemate/operations.js'
import { auditOperations } from '../kernel/audit-operations.js'
import { CATCHING_UP } from '../kernel/kernel.js'
import { catalogRoutes } from '../licences/catalog-routes.js'
import { catalogOperations } from '../licences/operations.js'
import type { Logger } from '../logger.js'
import { outboxOperations } from '../notify/outbox-operations.js'
import { authorizationServer } from '../oauth/provider.js'
import { registrationRoutes } from '../oauth/registration-routes.js'
import { oauthRoutes } from '../oauth/routes.js'
import { bearerToken } from '../openapi/bearer-auth.js'
import { openApiDocument } from '../openapi/document.js'
import { healthRoutes } from '../openapi/health-routes.js'
import { delegationRoutes } from '../trust/delegation-routes.js'
import { trustOperations } from '../trust/operations.js'
import { partyTokenRoutes } from '../trust/party-token-routes.js'
import { accountPageRoutes } from '../web/account-pages.js'
import { docsRoutes } from './docs-routes.js'
import { fieldWithNul, nestsDeeperThan, nulMessage, tooDeepMessage } from './json-body.js'
import { metricsRoutes } from './metrics-routes.js'
import { operationRoutes } from './operation-routes.js'
import { errorHandler, problem, sendProblem } from './problem.js'
import { HSTS, type TlsOptions } from './transport.js'

/**
 * The HTTP server, assembled: the request rules every route shares, then the route list. Each route says
 * who may call it; the entitlement engine does the deciding. Errors are RFC 9457 problem documents
 * (problem.ts).
 */

export interface AppOptions {
  logger: Logger
  /** `custodian demo`: the sample third party's pages, once it is registered. */
  demo?: () => DemoThirdParty | undefined
  /** Serve HTTPS itself (`--tls-cert`, `--tls-key`); undefined: plain HTTP, a proxy in front may do TLS. */
  tls?: TlsOptions
  /** The proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (`--trust-proxy`); default none. */
  trustProxy?: string[] | false
}

export async function buildApp(custodian: Custodian, options: AppOptions) {
  const app = Fastify({
    loggerInstance: options.logger,
    // request.ip and request.protocol come from X-Forwarded-For and X-Forwarded-Proto of listed proxies
    // only; anyone else's are the headers of a client that may lie.
    trustProxy: options.trustProxy ?? false,
    https: options.tls ?? null,
    // One line a request instead, with its status and time (metrics-routes.ts).
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  // HSTS on every answer that reached the client over TLS (its own, or a listed proxy's); browsers ignore it
  // over plain HTTP (RFC 6797 §8.1). Set on the raw response, so that routes handed to oidc-provider send it.
  app.addHook('onRequest', async (request, reply) => {
    if (request.protocol === 'https') reply.raw.setHeader('strict-transport-security', HSTS)
  })
  // Every JSON body is measured before it is parsed: one nested past maxJsonDepth is refused with a 400
  // naming the limit, rather than overflowing the stack of the code that walks it.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const max = custodian.config.maxJsonDepth
    const text = body as string
    if (nestsDeeperThan(text, max)) return done(invalid(tooDeepMessage('the body', max)), undefined)
    parseJson(request, text, (error, parsed) => {
      // JSON escapes a NUL: only a body holding the escape is walked.
      const field = !error && text.includes('\\u0000') ? fieldWithNul(parsed) : undefined
      if (field) return done(invalid(nulMessage(field)), undefined)
      done(error, parsed)
    })
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(
        'NotFound',
        404,
        `no route ${request.method} ${request.url}; the API is described at /openapi.json`,
      ),
    ),
  )
  await app.register(swagger, { openapi: openApiDocument })

  // Routes documented as needing a bearer token refuse requests without one before parsing or validating
  // anything, so an anonymous caller learns nothing about the route. Who may do what is the engine's call.
  app.addHook('onRequest', async (request, reply) => {
    // Only the API's bearer scheme: ESPI resources and OAuth endpoints check their own credentials.
    const security = (request.routeOptions.schema as { security?: object[] } | undefined)?.security
    if (security?.some((requirement) => 'bearerAuth' in requirement) && !bearerToken(request)) {
      return sendProblem(
        reply,
        problem(
          'InvalidAccessToken',
          401,
          `${request.method} ${request.routeOptions.url} needs an access token: send Authorization: Bearer <token> (log in with POST /v1/sessions)`,
        ),
      )
    }
  })

  // Decisions come from this node's Index: once it has not reached the store for maxStaleness, it may be
  // deciding on what was revoked elsewhere, so it refuses to answer until it has caught up. Health probes and
  // the API description still answer.
  app.addHook('onRequest', async (request, reply) => {
    const { url } = request
    if (custodian.fresh || url.startsWith('/health') || url === '/openapi.json' || url === '/metrics') return
    return sendProblem(
      reply,
      problem(
        'Unavailable',
        503,
        `${custodian.catchingUp ? CATCHING_UP : `this node has not reached its store for ${Math.round(custodian.staleness / 1000)} s (maxStaleness ${custodian.config.maxStaleness} s), so its answers may be out of date`}; try again shortly`,
        { retryAfterSeconds: RETRY_AFTER_SECONDS },
      ),
    )
  })

  // --- the route list -----------------------------------------------------------------------------------
  const consent = new ConsentService(custodian)
  const oauth = authorizationServer(custodian)
  // Unauthenticated: load balancers probe /health, /health/live and /health/ready (status, revision and staleness
  // only; never where the store is or why it failed); /openapi.json is public.
  await app.register(healthRoutes, { custodian })
  // Public: the start page and the browsable API description. /metrics: the metricsToken setting's holder.
  await app.register(docsRoutes, { demo: options.demo !== undefined })
  metricsRoutes(app, custodian)
  // Bearer token (the hook above), but for the public operations (log in, ...); each operation's permission
  // is checked before it runs.
  await app.register(operationRoutes, {
    custodian,
    tables: [
      entitlementOperations,
      auditOperations,
      Object.values(housemateOperations),
      Object.values(consentOperations),
      Object.values(catalogOperations),
      Object.values(trustOperations),
      Object.values(outboxOperations),
    ],
  })
  // OAuth authenticates clients (client secrets) and customers (the interaction's sign-in) itself.
  await app.register(oauthRoutes, { custodian, consent, server: oauth })
  // Third parties register themselves with the utility's initial access token, then manage the
  // registration with its registration access token (RFC 7591, 7592).
  await app.register(registrationRoutes, { custodian })
  // An ESPI access token from that server, checked per resource against its Authorization.
  await app.register(espiResourceRoutes, { custodian, consent, bearer: oauth.bearerGrant })
  // The customer's pages: their own session cookie, or the sign-in form.
  await app.register(accountPageRoutes, { custodian, consent })
  // The administrator's console: its own session cookie (or the sign-in form), CSRF-checked forms.
  await app.register(consoleRoutes, { custodian })
  // `custodian demo` only: a pretend third party's pages, public by nature.
  if (options.demo) await app.register(demoThirdPartyRoutes, { custodian, partyOf: options.demo })
  // Bearer token, administrators: Green Button files in, the catalog as Turtle in and out.
  await app.register(usageDataRoutes, { custodian })
  await app.register(catalogRoutes, { custodian })
  // Bearer token, administrators: entitlements in bulk (users, credentials, roles, grants).
  await app.register(importRoutes, { custodian })
  // iSHARE: POST /delegation needs a bearer token; the certificates that verify its evidence are public.
  await app.register(delegationRoutes, { custodian })
  // iSHARE parties: the token endpoint takes a client assertion instead of a token; capabilities are public.
  await app.register(partyTokenRoutes, { custodian })
  return app
}
