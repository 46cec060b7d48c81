import { Type } from '@sinclair/typebox'
import { atomBody, documented, params, problemBody } from '../openapi/route-docs.js'

/**
 * The OpenAPI description of the ESPI Atom resources (espi-routes.ts): each is read with an ESPI access
 * token and answers a feed (filtered and paged by ESPI's query parameters) or a single entry.
 */

/** The security requirement of an ESPI resource: an access token from the OAuth server under /oauth. */
const espiToken = [{ espiOAuth: [] }]

/** The refusals every ESPI resource may answer, as problem documents. */
const espiRefusals = {
  400: problemBody('A query parameter is malformed; the detail names it'),
  401: problemBody(
    'The access token is missing, unknown, expired, or its authorization has ended (WWW-Authenticate: Bearer error="invalid_token")',
  ),
  403: problemBody(
    'The token may not read this resource (a customer grant asking for Batch/Bulk, a function block outside its scope)',
  ),
  404: problemBody('The resource does not exist or is not within this authorization'),
}

/** ESPI's query parameters (REQ.21): time windows over published and updated times, paging and depth. */
const EspiQuery = Type.Object({
  'published-min': Type.Optional(
    Type.String({ format: 'date-time', description: 'Entries published at or after (RFC 3339)' }),
  ),
  'published-max': Type.Optional(
    Type.String({ format: 'date-time', description: 'Entries published at or before (RFC 3339)' }),
  ),
  'updated-min': Type.Optional(
    Type.String({ format: 'date-time', description: 'Entries updated at or after (RFC 3339)' }),
  ),
  'updated-max': Type.Optional(
    Type.String({ format: 'date-time', description: 'Entries updated at or before (RFC 3339)' }),
  ),
  'start-index': Type.Optional(
    Type.Integer({ minimum: 1, default: 1, description: 'The first entry to answer, counting from 1' }),
  ),
  'max-results': Type.Optional(Type.Integer({ minimum: 1, description: 'At most this many entries' })),
  depth: Type.Optional(
    Type.Integer({ minimum: 1, default: 3, description: 'How many levels below each entry to include' }),
  ),
})

const parameters = {
  sub: 'The Subscription: one per Authorization',
  up: 'The usage point (meter)',
  mr: 'The meter reading',
  id: 'The resource',
  start: 'The interval block, by its start (seconds since the epoch)',
} as const
type Parameter = keyof typeof parameters

const espi = (summary: string, answer: string, path: Parameter[], query: boolean) =>
  documented({
    summary,
    tags: ['espi'],
    security: espiToken,
    ...(path.length > 0 ? { params: params(Object.fromEntries(path.map((p) => [p, parameters[p]]))) } : {}),
    ...(query ? { querystring: EspiQuery } : {}),
    response: { 200: atomBody(answer), ...espiRefusals },
  })

const feed = (summary: string, ...path: Parameter[]) =>
  espi(summary, 'An Atom feed of ESPI entries (http://naesb.org/espi content)', path, true)
const entry = (summary: string, ...path: Parameter[]) =>
  espi(summary, 'An Atom entry (http://naesb.org/espi content)', path, false)

/** The route options of each ESPI resource, named by what it answers. */
export const espiRouteDocs = {
  batch: feed(
    'Everything one Subscription covers: its usage points with their readings and summaries',
    'sub',
  ),
  batchPoint: feed('Everything about one usage point of a Subscription', 'sub', 'up'),
  bulk: feed(
    "Every Subscription of the third party's Authorizations, read with a client_credentials token; the id is the bulk id its scope names",
    'id',
  ),
  points: feed('The usage points of a Subscription', 'sub'),
  point: entry('One usage point of a Subscription', 'sub', 'up'),
  /** MeterReading and the summaries under a usage point. */
  feedOf: (kind: string) => feed(`The ${kind} resources of a usage point`, 'sub', 'up'),
  entryOf: (kind: string) => entry(`One ${kind} of a usage point`, 'sub', 'up', 'id'),
  blocks: feed('The interval blocks of a meter reading', 'sub', 'up', 'mr'),
  block: entry('One interval block of a meter reading', 'sub', 'up', 'mr', 'start'),
  /** ReadingType and LocalTimeParameters, shared by usage points. */
  shared: (kind: string) => entry(`A ${kind}, reached through any usage point the token may see`, 'id'),
  sharedFeed: (kind: string) => feed(`Every ${kind} of the usage points the token may see`),
  auths: feed(
    "The token's Authorizations: its customer grant's own, or all of the third party's with client credentials",
  ),
  auth: entry('One of the token’s Authorizations', 'id'),
  appInfo: entry("The third party's own registration; the id is its client id", 'id'),
  appInfos: feed("The third party's own registration, as a feed of one entry"),
}
