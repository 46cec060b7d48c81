import type { SwaggerOptions } from '@fastify/swagger'

/**
 * The OpenAPI document's header: what the server is and how its callers authenticate. The paths come from
 * the route schemas (@fastify/swagger reads them as the routes are registered).
 */
export const openApiDocument: NonNullable<Extract<SwaggerOptions, { openapi?: unknown }>['openapi']> = {
  openapi: '3.1.0',
  info: {
    title: 'Custodian',
    version: '0.1.0',
    description: [
      'Authorization server for consented data sharing: it decides who may use which data, records each decision in a hash-chained audit log, and serves the data customers consented to share. In four areas:',
      '- entitlements: users, credentials, permissions, roles, resources, sessions and access checks, and the House Mate model service they protect;',
      '- Green Button (ESPI) consent: customers, usage points and third parties, the OAuth 2.0 authorization server under /oauth with its login and consent pages, the Atom resources under /espi/1_1/resource, and the customer’s account pages;',
      '- the IB1 trust framework: catalog entries, the roles they require and the licences they carry;',
      '- BDI trust decisions: associations, parties and services, and iSHARE delegation policies, requests (/delegation) and evidence.',
      '',
      'Operators watch it at /health, /health/ready and /metrics (Prometheus; docs/operations.md). This description is browsable at /docs.',
    ].join('\n'),
  },
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'An access token from POST /v1/sessions' },
      espiOAuth: {
        type: 'oauth2',
        description:
          'An ESPI access token: a customer’s grant (authorization code with PKCE) or the third party’s own (client credentials, for Batch/Bulk and ApplicationInformation)',
        flows: {
          authorizationCode: {
            authorizationUrl: '/oauth/auth',
            tokenUrl: '/oauth/token',
            refreshUrl: '/oauth/token',
            scopes: {},
          },
          clientCredentials: { tokenUrl: '/oauth/token', scopes: {} },
        },
      },
      metricsToken: {
        type: 'http',
        scheme: 'bearer',
        description: 'The metricsToken setting, held by the Prometheus scraper (not a user’s token)',
      },
      clientSecretBasic: {
        type: 'http',
        scheme: 'basic',
        description:
          'A third party’s client id and secret (client_secret_basic; client_secret_post sends them in the form)',
      },
    },
  },
}
