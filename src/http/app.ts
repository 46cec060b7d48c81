import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { ConsentService } from '../consent/consent-service.js'
import { consentOperations } from '../consent/operations.js'
import type { ChangeResult, Custodian } from '../custodian.js'
import { type DemoThirdParty, registerDemoThirdParty } from '../demo/demo.js'
import { entitlementOperations } from '../entitlements/operations.js'
import { invalid } from '../errors.js'
import { registerEspiResources } from '../greenbutton/espi-routes.js'
import { UsageDataService } from '../greenbutton/usage-data-service.js'
import { housemateOperations } from '../housemate/operations.js'
import { auditOperations } from '../kernel/audit-operations.js'
import { AnyObject } from '../kernel/schemas.js'
import { CatalogService } from '../licences/catalog-service.js'
import { catalogOperations } from '../licences/operations.js'
import type { Logger } from '../logger.js'
import { registerOAuth } from '../oauth/routes.js'
import { openApiDocument } from '../openapi/document.js'
import { body, documented, jsonBody, ProblemSchema } from '../openapi/route-docs.js'
import { trustOperations, trustServicesOf } from '../trust/operations.js'
import { registerAccountPages } from '../web/account-pages.js'
import { nestsDeeperThan, tooDeepMessage } from './json-body.js'
import { bearer, bearerToken, operationRoutes } from './operation-routes.js'
import { errorHandler, problem, sendProblem } from './problem.js'

/**
 * The HTTP API: this file lists every route. Each says who may call it; the entitlement engine does the
 * deciding. Errors are RFC 9457 problem documents (see problem.ts).
 */
const errors = { '4xx': ProblemSchema }

const withRevision = (reply: { header: (k: string, v: string) => unknown }, result: ChangeResult) => {
  reply.header('custodian-revision', String(result.revision))
  return { revision: result.revision, summary: result.summary }
}

export interface AppOptions {
  logger: Logger
  /** `custodian demo`: the sample third party's pages, once it is registered. */
  demo?: () => DemoThirdParty | undefined
}

export async function buildApp(custodian: Custodian, options: AppOptions) {
  const app = Fastify({
    loggerInstance: options.logger,
    trustProxy: false,
  }).withTypeProvider<TypeBoxTypeProvider>()
  app.setErrorHandler(errorHandler)
  // Every JSON body is measured before it is parsed: one nested past maxJsonDepth is refused with a 400
  // naming the limit, rather than overflowing the stack of the code that walks it.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const max = custodian.config.maxJsonDepth
    if (nestsDeeperThan(body as string, max)) return done(invalid(tooDeepMessage('the body', max)), undefined)
    parseJson(request, body as string, done)
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

  const token = (request: FastifyRequest) => bearerToken(request)

  // Unauthenticated: load balancers probe it, and it reveals only liveness and the revision.
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

  // Unauthenticated: the API's public description.
  app.get(
    '/openapi.json',
    documented({
      summary: 'This OpenAPI 3.1 document: every route the server answers',
      tags: ['health'],
      response: { 200: jsonBody('The OpenAPI document') },
    }),
    async () => app.swagger(),
  )

  // --- the operations tables: each operation's route, schema and OpenAPI entry ------------------------
  await app.register(operationRoutes, {
    custodian,
    tables: [
      entitlementOperations,
      auditOperations,
      Object.values(housemateOperations),
      Object.values(consentOperations),
      Object.values(catalogOperations),
      Object.values(trustOperations),
    ],
  })

  // --- ESPI consent: OAuth, the ESPI resources and the account pages (its operations are in the table) ----
  const consent = new ConsentService(custodian)
  // The OAuth routes take no typed schemas; the plain instance type is enough for them.
  const { bearerGrant } = await registerOAuth(app as unknown as FastifyInstance, custodian, consent)
  await registerEspiResources(app as unknown as FastifyInstance, custodian, consent, bearerGrant)
  await registerAccountPages(app as unknown as FastifyInstance, custodian, consent)
  if (options.demo) await registerDemoThirdParty(app as unknown as FastifyInstance, custodian, options.demo)

  // --- Green Button data in (issue 5): the back office's files, streamed into one transaction each ---------
  const usageData = new UsageDataService(custodian)
  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>()
    // The body is handed over as a stream: files of hundreds of MB are read as they arrive.
    scope.addContentTypeParser(
      ['application/xml', 'application/atom+xml', 'text/xml', 'text/csv'],
      { bodyLimit: 4 * 1024 ** 3 },
      (_request, payload, done) => done(null, payload),
    )
    scope.post(
      '/v1/usage-data',
      {
        schema: {
          summary:
            'Publish usage data (administrators): a Green Button (ESPI Atom) document, or a CSV of interval readings (usage_point,start,duration,value[,cost][,quality]) sent as text/csv',
          tags: ['green button'],
          security: bearer,
          querystring: Type.Object(
            {
              name: Type.Optional(
                Type.String({
                  minLength: 1,
                  maxLength: 200,
                  description: 'the file name, for messages and the audit log',
                }),
              ),
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
          response: { 200: AnyObject, ...errors },
        },
      },
      async (request) => {
        const q = request.query
        const csv = /^text\/csv/i.test(request.headers['content-type'] ?? '')
        return usageData.import(token(request), {
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
  })

  // --- Trust-framework catalog (issue 6): data services, licence interpretations, participants ----------
  const catalog = new CatalogService(custodian)
  const catalogTags = ['trust framework']
  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<TypeBoxTypeProvider>()
    scope.addContentTypeParser(
      'text/turtle',
      { parseAs: 'string', bodyLimit: 5 * 1024 * 1024 },
      (_r, body, done) => done(null, body),
    )
    scope.post(
      '/v1/catalog',
      {
        schema: {
          summary:
            'Load catalog entries (dcat:DataService) and licence interpretations (ib1:LicenceInterpretation) from a Turtle body, all or nothing (administrators)',
          tags: catalogTags,
          security: bearer,
          querystring: Type.Object(
            {
              name: Type.Optional(
                Type.String({ minLength: 1, maxLength: 200, description: 'named in messages' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: AnyObject, ...errors },
        },
      },
      async (request, reply) =>
        withRevision(
          reply,
          await catalog.load(token(request), String(request.body), request.query.name ?? 'body'),
        ),
    )
  })
  app.get(
    '/v1/catalog',
    {
      schema: {
        summary: 'The catalog and the licence interpretations as Turtle (administrators)',
        tags: catalogTags,
        security: bearer,
      },
    },
    async (request, reply) => reply.type('text/turtle').send(catalog.export(token(request))),
  )

  // --- iSHARE Authorization Register (issue 7): delegation evidence in, signed evidence out -------------
  const { delegation } = trustServicesOf(custodian)
  const delegationTags = ['delegation']
  app.post(
    '/delegation',
    {
      schema: {
        summary:
          'iSHARE delegation request: the register’s evidence for the mask, as a JWT (RS256, x5c, 30 s) in both the 2.x and 3.0 spellings',
        tags: delegationTags,
        security: bearer,
        body: Type.Object(
          {
            delegationRequest: AnyObject,
            // The links of a chain held elsewhere: answerThroughChain follows at most 5.
            previous_steps: Type.Optional(Type.Array(Type.String(), { maxItems: 5 })),
            previousSteps: Type.Optional(Type.Array(Type.String(), { maxItems: 5 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ delegation_token: Type.String(), delegationToken: Type.String() }),
          ...errors,
        },
      },
    },
    async (request) => {
      const answer = await delegation.answer(
        token(request),
        { delegationRequest: request.body.delegationRequest },
        request.body.previousSteps ?? request.body.previous_steps ?? [],
      )
      await custodian.flush()
      return { delegation_token: answer.token, delegationToken: answer.token }
    },
  )
  // Unauthenticated: certificates are public, and service providers need this chain to trust the evidence.
  app.get(
    '/delegation/certificates',
    documented({
      summary:
        'The certificate chain that signs delegation tokens and evidence (PEM), for service providers to verify them',
      tags: delegationTags,
      response: { 200: body('The certificates, PEM-encoded', 'application/x-pem-file') },
    }),
    async (_request, reply) =>
      reply.type('application/x-pem-file').send((await delegation.material()).chain.join('')),
  )

  return app
}
