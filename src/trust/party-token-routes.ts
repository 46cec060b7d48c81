import querystring from 'node:querystring'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { type OperationHost, perCustodian } from '../kernel/operations.js'
import { bearerToken } from '../openapi/bearer-auth.js'
import { body, documented, formBody } from '../openapi/route-docs.js'
import { OAuthRefusal } from './client-assertion.js'
import { trustServicesOf } from './operations.js'
import { PartyTokens } from './party-tokens.js'

const tags = ['delegation']
const partyTokensOf = perCustodian(
  (custodian) => new PartyTokens(custodian, trustServicesOf(custodian).delegation),
)

const OAuthError = Type.Object({ error: Type.String(), error_description: Type.String() })

/**
 * iSHARE machine-to-machine authentication (issue 16): a party's token endpoint, under the names iSHARE 1.x
 * (`/connect/token`) and 2.x/3.0 (`/oauth2.0/token`) give it, and the signed capabilities.
 */
export const partyTokenRoutes: FastifyPluginAsyncTypebox<{ custodian: OperationHost }> = async (
  app,
  { custodian },
) => {
  const tokens = partyTokensOf(custodian)
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, text, done) => done(null, querystring.parse(text as string)),
  )
  // Unauthenticated: the client assertion in the form is the credential, checked by the handler.
  for (const url of ['/connect/token', '/oauth2.0/token'])
    app.post(
      url,
      documented({
        summary:
          'iSHARE access token for a party: client credentials with a client assertion (RS256 JWT with x5c, iss = sub = client_id, aud = this server, 30 s); errors per RFC 6749',
        tags,
        body: formBody({
          grant_type: 'client_credentials',
          scope: 'iSHARE',
          client_id: 'the party id',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: 'the signed JWT',
        }),
        response: {
          200: Type.Object({
            access_token: Type.String(),
            token_type: Type.Literal('Bearer'),
            expires_in: Type.Integer(),
            scope: Type.String(),
          }),
          '4xx': OAuthError,
        },
      }),
      async (request, reply) => {
        reply.header('cache-control', 'no-store')
        const form = request.body
        const type = request.headers['content-type'] ?? ''
        if (
          !type.startsWith('application/x-www-form-urlencoded') ||
          typeof form !== 'object' ||
          form === null
        )
          return reply.code(400).send({
            error: 'invalid_request',
            error_description: 'send the token request as application/x-www-form-urlencoded',
          })
        try {
          const answer = await tokens.issue(form as Record<string, unknown>, request.ip)
          await custodian.flushAudit()
          return answer
        } catch (error) {
          if (!(error instanceof OAuthRefusal)) throw error
          await custodian.flushAudit()
          return reply.code(error.status).send({ error: error.error, error_description: error.message })
        }
      },
    )
  // Public: anyone may read the public features; with a valid access token, the restricted ones too.
  app.get(
    '/capabilities',
    documented({
      summary:
        'iSHARE capabilities: what this server offers, as a signed capabilities_token (RS256, x5c); with an access token, its restricted features too',
      tags,
      response: {
        200: body(
          'The signed capabilities',
          'application/json',
          Type.Object({ capabilities_token: Type.String() }),
        ),
      },
    }),
    async (request) => ({ capabilities_token: await tokens.capabilities(bearerToken(request)) }),
  )
}
