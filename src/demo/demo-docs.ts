import { Type } from '@sinclair/typebox'
import { documented, empty, htmlBody } from '../openapi/route-docs.js'

/** The OpenAPI description of the demo third party's pages (demo.ts), mounted only by `custodian demo`. */
const tags = ['demo']
const toUtility = empty('Redirects the browser to the utility’s /oauth/auth, with PKCE (Location header)')

export const demoDocs = {
  home: documented({
    summary: 'The demo third party’s home page: a button to connect a utility account',
    tags,
    response: { 200: htmlBody('The page') },
  }),
  callback: documented({
    summary: 'The demo third party’s OAuth redirect URI: exchanges the code and reads the data',
    tags,
    querystring: Type.Object({
      code: Type.Optional(Type.String()),
      state: Type.Optional(Type.String()),
      error: Type.Optional(Type.String()),
      error_description: Type.Optional(Type.String()),
    }),
    response: {
      200: htmlBody('Connected: what the utility shared'),
      400: htmlBody('Not connected: what the utility answered'),
      502: htmlBody('The token exchange failed'),
    },
  }),
  connect: documented({
    summary: 'Starts the OAuth flow: redirects to the utility’s authorization endpoint',
    tags,
    response: { 303: toUtility },
  }),
  start: documented({
    summary: 'Starts the OAuth flow from the home page’s button',
    tags,
    response: { 303: toUtility },
  }),
  notify: documented({
    summary: 'The demo third party’s notifyUri: the utility posts a BatchList of resource URIs',
    tags,
    body: { content: { 'application/xml': { schema: Type.String({ description: 'An ESPI BatchList' }) } } },
    response: { 202: empty('Received') },
  }),
}
