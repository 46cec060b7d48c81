import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { REGISTRATION_PATH, RegistrationError, RegistrationService } from '../consent/registration-service.js'
import type { Custodian } from '../custodian.js'
import { body, documented, empty, params } from '../openapi/route-docs.js'

/**
 * RFC 7591 dynamic registration and RFC 7592 registration management, beside oidc-provider's endpoints
 * under /oauth (more specific routes than its catch-all). Unauthenticated at the API's layer: the
 * registration endpoint takes an initial access token the utility issued, the client configuration
 * endpoint the registration access token of that very client; both are checked by RegistrationService.
 * Answers and refusals are RFC 7591's JSON (`error`, `error_description`), never cached.
 */
const tags = ['oauth']
const oauthError = (description: string) =>
  body(
    description,
    'application/json',
    Type.Object({ error: Type.String(), error_description: Type.String() }),
  )
const registrationBody = (description: string) =>
  body(
    description,
    'application/json',
    Type.Object({ client_id: Type.String() }, { additionalProperties: true }),
  )
const metadataRequest = {
  content: {
    'application/json': {
      schema: Type.Object(
        {
          client_name: Type.String({ description: 'Shown to customers; not another third party’s' }),
          redirect_uris: Type.Array(Type.String({ description: 'https, or http on localhost' })),
          scope: Type.String({ description: 'One ESPI scope, the widest customers will be asked for' }),
          thirdPartyNotifyUri: Type.String({ description: 'Where ESPI notifications are posted (https)' }),
          thirdPartyApplicationDescription: Type.Optional(Type.String()),
          thirdPartyScopeSelectionScreenURI: Type.Optional(Type.String()),
          grant_types: Type.Optional(Type.Array(Type.String())),
          response_types: Type.Optional(Type.Array(Type.String())),
          token_endpoint_auth_method: Type.Optional(Type.Literal('client_secret_basic')),
        },
        { additionalProperties: true },
      ),
    },
  },
}
const refusals = {
  400: oauthError(
    'invalid_redirect_uri, invalid_client_metadata, invalid_software_statement or invalid_request, naming the field',
  ),
  401: oauthError('invalid_token: the token is missing, unknown, expired, used, or another client’s'),
  403: oauthError('The third party is suspended: its registration cannot change'),
}
const clientParams = params({ client_id: 'The client id the registration answered' })

export const registrationRoutes: FastifyPluginAsync<{ custodian: Custodian }> = async (
  app,
  { custodian },
) => {
  const service = new RegistrationService(custodian)
  const bearer = (request: FastifyRequest) =>
    /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1]

  /**
   * Runs `answer`, sending its result or its RFC 7591 refusal, which goes to the audit log too (the changes
   * themselves are audited as they are written); anything else is the app's to report.
   */
  const respond = async (
    reply: FastifyReply,
    status: number,
    attempt: { action: string; clientId?: string },
    answer: () => Promise<unknown>,
  ) => {
    reply.headers({ 'cache-control': 'no-store', pragma: 'no-cache' })
    try {
      const result = await answer()
      return result === undefined ? reply.code(status).send() : reply.code(status).send(result)
    } catch (error) {
      if (!(error instanceof RegistrationError)) throw error
      custodian.audit({
        actor: error.status === 401 ? 'anonymous' : (attempt.clientId ?? 'anonymous'),
        action: attempt.action,
        resource: attempt.clientId ?? '-',
        outcome: error.error,
        reason: error.message,
      })
      if (error.status === 401) reply.header('www-authenticate', 'Bearer error="invalid_token"')
      return reply
        .code(error.status)
        .type('application/json')
        .send({ error: error.error, error_description: error.message })
    }
  }
  // A body that is not JSON is the registration's error too, not the API's problem document.
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    if (error.statusCode !== 400 && error.statusCode !== 415) throw error
    return reply
      .code(400)
      .headers({ 'cache-control': 'no-store' })
      .send({
        error: 'invalid_client_metadata',
        error_description: `the body is not a JSON object: ${error.message}`,
      })
  })

  app.post(
    REGISTRATION_PATH,
    documented({
      summary: 'Dynamic client registration (RFC 7591): a third party registers itself',
      description:
        'Authorization: Bearer <initial access token> (issue_registration_token; each registers one third party). Answers the client id and secret (shown once), the registration access token and the client configuration URI (RFC 7592).',
      tags,
      body: metadataRequest,
      response: {
        201: registrationBody('The registered client, its secret and its registration access token'),
        ...refusals,
      },
    }),
    (request, reply) =>
      respond(reply, 201, { action: 'third_party.register' }, () =>
        service.register(bearer(request), request.body),
      ),
  )
  const clientPath = `${REGISTRATION_PATH}/:client_id`
  const clientOf = (request: FastifyRequest) => (request.params as { client_id: string }).client_id
  const attempt = (action: string, request: FastifyRequest) => ({ action, clientId: clientOf(request) })
  const management = (summary: string, response: Record<number, unknown>, extra = {}) =>
    documented({
      summary,
      description: 'Authorization: Bearer <registration access token> of this client.',
      tags,
      params: clientParams,
      response: { ...response, ...refusals },
      ...extra,
    })
  app.get(
    clientPath,
    management('Read a registration (RFC 7592 §2.1); the client secret is not in it', {
      200: registrationBody('The registered metadata'),
    }),
    (request, reply) =>
      respond(reply, 200, attempt('third_party.read', request), () =>
        service.read(bearer(request), clientOf(request)),
      ),
  )
  app.put(
    clientPath,
    management(
      'Change a registration (RFC 7592 §2.2): the whole metadata, with client_id; the registration access token is rotated',
      { 200: registrationBody('The metadata now registered, with the new registration access token') },
      { body: metadataRequest },
    ),
    (request, reply) =>
      respond(reply, 200, attempt('third_party.update', request), () =>
        service.update(bearer(request), clientOf(request), request.body),
      ),
  )
  app.delete(
    clientPath,
    management('Delete a registration (RFC 7592 §2.3): the third party is revoked, its tokens stop working', {
      204: empty('Deleted'),
    }),
    (request, reply) =>
      respond(reply, 204, attempt('third_party.deregister', request), () =>
        service.deregister(bearer(request), clientOf(request)),
      ),
  )
}
