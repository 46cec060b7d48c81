import { atomBody, documented, EspiQuery, espiRefusals, espiToken, params } from '../openapi/route-docs.js'

/**
 * The OpenAPI description of the ESPI Atom resources (espi-routes.ts): each is read with an ESPI access
 * token and answers a feed (filtered and paged by ESPI's query parameters) or a single entry.
 */
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
  auths: feed(
    "The token's Authorizations: its customer grant's own, or all of the third party's with client credentials",
  ),
  auth: entry('One of the token’s Authorizations', 'id'),
  appInfo: entry("The third party's own registration; the id is its client id", 'id'),
}
