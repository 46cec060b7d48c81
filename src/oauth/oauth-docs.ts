import { Type } from '@sinclair/typebox'
import { body, documented, empty, formBody, htmlBody, params, problemBody } from '../openapi/route-docs.js'

/**
 * The OpenAPI description of the authorization server's routes (routes.ts): the endpoints oidc-provider
 * serves under /oauth, its metadata at the root, and the customer's sign-in and consent pages.
 *
 * The endpoints oidc-provider serves under the /oauth mount with the features provider.ts enables (no
 * userinfo, registration, logout, PAR or device flow), each with its documentation. routes.ts registers one
 * route per entry, forwarding to the provider like the mount's catch-all does, so they appear in
 * /openapi.json; the catch-all still forwards whatever else the provider answers (its CORS preflights).
 */
export interface ProviderEndpoint {
  method: 'GET' | 'POST'
  /** Below the mount, as oidc-provider names it. */
  path: string
  schema: Record<string, unknown>
}

/** The client authentication of oidc-provider's back-channel endpoints: HTTP Basic, or the secret in the form. */
const clientAuthentication = [{ clientSecretBasic: [] }, {}]

const tags = ['oauth']
const oauthError = (description: string) =>
  body(
    description,
    'application/json',
    Type.Object({ error: Type.String(), error_description: Type.Optional(Type.String()) }),
  )
const metadata = body(
  'The authorization server metadata (RFC 8414): issuer, endpoints, grant types, PKCE methods',
  'application/json',
  Type.Object({ issuer: Type.String() }, { additionalProperties: true }),
)
const redirect = (where: string) => empty(`Redirects the browser ${where} (Location header)`)
const tokenForm = formBody({
  token: 'The access or refresh token',
  token_type_hint: 'access_token or refresh_token',
  client_id: 'With client_secret_post',
  client_secret: 'With client_secret_post',
})

export const providerEndpoints: ProviderEndpoint[] = [
  {
    method: 'GET',
    path: '/auth',
    schema: {
      summary: 'Authorization endpoint: a third party sends the customer here to ask for an ESPI grant',
      description:
        'Authorization code flow with PKCE (S256) required; the scope is the ESPI scope the third party is registered with.',
      tags,
      querystring: Type.Object({
        response_type: Type.Literal('code'),
        client_id: Type.String(),
        redirect_uri: Type.String({ format: 'uri' }),
        scope: Type.String({ description: 'An ESPI scope, e.g. FB=1_3_4_5_13_14_39;IntervalDuration=3600' }),
        state: Type.Optional(Type.String()),
        code_challenge: Type.String(),
        code_challenge_method: Type.Literal('S256'),
        resource: Type.Optional(Type.String({ description: 'The ESPI resource server, the only one here' })),
      }),
      response: {
        '3xx': redirect('to the sign-in and consent pages, or back to redirect_uri with an error'),
        '4xx': htmlBody('The request cannot be redirected (unknown client or redirect_uri): an error page'),
      },
    },
  },
  {
    method: 'GET',
    path: '/auth/:uid',
    schema: {
      summary: 'Resumes an authorization once the customer has signed in and decided',
      tags,
      params: params({ uid: 'The interaction' }),
      response: {
        '3xx': redirect('back to redirect_uri with a code, or with access_denied'),
        '4xx': htmlBody('The interaction is unknown or expired: an error page'),
      },
    },
  },
  {
    method: 'POST',
    path: '/token',
    schema: {
      summary:
        'Token endpoint: exchanges a code, a refresh token or the client credentials for an access token',
      description:
        'grant_type authorization_code (with code_verifier), refresh_token (rotated) or client_credentials. Refused once the Authorization has ended.',
      tags,
      security: clientAuthentication,
      body: formBody({
        grant_type: 'authorization_code, refresh_token or client_credentials',
        code: 'The authorization code',
        redirect_uri: 'As sent to the authorization endpoint',
        code_verifier: 'The PKCE verifier',
        refresh_token: 'The refresh token',
        scope:
          "For client_credentials: the scope asked for (default: the third party's registered allowance)",
        resource: 'The ESPI resource server',
        client_id: 'With client_secret_post',
        client_secret: 'With client_secret_post',
      }),
      response: {
        200: body(
          'The tokens',
          'application/json',
          Type.Object(
            {
              access_token: Type.String(),
              token_type: Type.String(),
              expires_in: Type.Integer(),
              scope: Type.Optional(Type.String()),
              refresh_token: Type.Optional(Type.String()),
            },
            { additionalProperties: true },
          ),
        ),
        400: oauthError('invalid_request, invalid_grant (the Authorization has ended, say), invalid_target…'),
        401: oauthError('invalid_client: the client authentication failed'),
      },
    },
  },
  {
    method: 'POST',
    path: '/token/revocation',
    schema: {
      summary: 'Revocation (RFC 7009): a third party revokes one of its own tokens',
      tags,
      security: clientAuthentication,
      body: tokenForm,
      response: {
        200: empty('Revoked, or already unknown'),
        400: oauthError('The request is malformed'),
        401: oauthError('invalid_client: the client authentication failed'),
      },
    },
  },
  {
    method: 'POST',
    path: '/token/introspection',
    schema: {
      summary: 'Introspection (RFC 7662): a third party asks whether one of its own tokens is active',
      description:
        'A token whose client is suspended, or whose Authorization has ended, is reported inactive.',
      tags,
      security: clientAuthentication,
      body: tokenForm,
      response: {
        200: body(
          'Whether the token is active, and if so its client, scope and expiry',
          'application/json',
          Type.Object({ active: Type.Boolean() }, { additionalProperties: true }),
        ),
        400: oauthError('The request is malformed'),
        401: oauthError('invalid_client: the client authentication failed'),
      },
    },
  },
  {
    method: 'GET',
    path: '/jwks',
    schema: {
      summary: 'The authorization server’s public keys (JWK Set)',
      tags,
      response: {
        200: body(
          'The keys',
          'application/jwk-set+json',
          Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }),
        ),
      },
    },
  },
  {
    method: 'GET',
    path: '/.well-known/oauth-authorization-server',
    schema: {
      summary: 'Authorization server metadata (RFC 8414), under the issuer',
      tags,
      response: { 200: metadata },
    },
  },
  {
    method: 'GET',
    path: '/.well-known/openid-configuration',
    schema: {
      summary: 'The same metadata at the OpenID Connect discovery path, for clients that look there',
      tags,
      response: { 200: metadata },
    },
  },
]

const interaction = params({ uid: 'The interaction, as the authorization endpoint named it' })
const decided = empty('Finished: redirects the browser to resume the authorization (Location header)')
const pageTags = ['oauth', 'pages']
const unknownInteraction = problemBody('The interaction is unknown or has expired')

/** The route options of the routes outside the mount. */
export const oauthRouteDocs = {
  /** RFC 8414 metadata at the root, where the issuer /oauth puts its well-known path. */
  rootMetadata: documented({
    summary: 'Authorization server metadata (RFC 8414) at the root, for the issuer /oauth',
    tags,
    response: { 200: metadata },
  }),
  interaction: documented({
    summary: 'The customer’s sign-in page, then the consent page: which meters, until when',
    tags: pageTags,
    params: interaction,
    response: { 200: htmlBody('The sign-in or the consent page'), 400: unknownInteraction },
  }),
  login: documented({
    summary: 'Signs the customer in with the utility account’s password',
    tags: pageTags,
    params: interaction,
    body: formBody({ username: 'The username', password: 'The password', csrf: 'The form’s CSRF token' }),
    response: {
      '3xx': decided,
      400: unknownInteraction,
      401: htmlBody('Wrong username or password: the sign-in page again'),
      403: htmlBody('The form expired, or the account is not a customer’s: the sign-in page again'),
      429: htmlBody('Too many failed attempts: the sign-in page again'),
    },
  }),
  consent: documented({
    summary: 'Records the customer’s decision: approve (creating an ESPI Authorization) or deny',
    tags: pageTags,
    params: interaction,
    body: formBody({
      csrf: 'The form’s CSRF token',
      decision: 'approve or deny',
      usage_point: 'A meter to share (repeated for each)',
      period_end:
        'The last day of access, inclusive (YYYY-MM-DD): the Authorization ends as the next day begins (UTC)',
    }),
    response: {
      '3xx': decided,
      400: {
        description:
          'The choice is not valid (no meter, a past date): the consent page again, saying why; or the interaction is unknown or has expired',
        content: { 'text/html': { schema: Type.String() }, ...unknownInteraction.content },
      },
      403: htmlBody('The form expired: the consent page again'),
    },
  }),
}
