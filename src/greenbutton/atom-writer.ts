import type { Standing } from '../store/schema.js'
import { xmlText } from '../xml/xml-text.js'
import { ATOM_NS, ESPI_NS } from './namespaces.js'

/**
 * Writes Green Button (ESPI) Atom XML as strings, a piece at a time, so that a route can stream a feed
 * without building it whole. Atom times are given in milliseconds; ESPI times and durations are whole
 * seconds, as ESPI writes them. Numbers that would not validate are refused rather than written.
 */
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

/** RFC 3339 in UTC without milliseconds, as the Green Button samples write it. */
const time = (at: Date | number): string => new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')

const integer = (n: number, what: string): string => {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be a whole number, not ${n}`)
  return String(n)
}

const element = (name: string, text: string) => `<${name}>${xmlText(text)}</${name}>`
const link = (rel: string, href: string) => `<link rel="${rel}" href="${xmlText(href)}"/>`

export interface DateTimeInterval {
  /** Seconds since the epoch. */
  start: number
  /** Seconds. */
  duration: number
}

const interval = (name: string, i: DateTimeInterval) =>
  `<${name}><duration>${integer(i.duration, `${name} duration`)}</duration><start>${integer(i.start, `${name} start`)}</start></${name}>`

export function feedStart(feed: { id: string; title: string; updated: Date | number; self: string }): string {
  return `${DECLARATION}<feed xmlns="${ATOM_NS}" xmlns:espi="${ESPI_NS}">${element('id', feed.id)}${element('title', feed.title)}${element('updated', time(feed.updated))}${link('self', feed.self)}\n`
}

export const feedEnd = (): string => '</feed>\n'

export interface Entry {
  id: string
  self: string
  up: string
  related?: string[]
  title: string
  /** Milliseconds since the epoch. */
  published: number
  /** Milliseconds since the epoch. */
  updated: number
  /** One serialized ESPI element, with its own xmlns="http://naesb.org/espi". */
  content: string
}

/** An Atom entry; standalone for a single-resource response, otherwise to go inside feedStart/feedEnd. */
export function entry(e: Entry, standalone = false): string {
  const open = standalone ? `${DECLARATION}<entry xmlns="${ATOM_NS}" xmlns:espi="${ESPI_NS}">` : '<entry>'
  const related = (e.related ?? []).map((href) => link('related', href)).join('')
  return `${open}${element('id', e.id)}${link('self', e.self)}${link('up', e.up)}${related}${element('title', e.title)}<content>${e.content}</content>${element('published', time(e.published))}${element('updated', time(e.updated))}</entry>\n`
}

export interface IntervalReading {
  /** Seconds since the epoch. */
  start: number
  /** Seconds. */
  duration: number
  value: number
  cost?: number | null
  /** ESPI QualityOfReading codes. */
  qualities: number[]
}

export function intervalBlockContent(block: DateTimeInterval, readings: Iterable<IntervalReading>): string {
  let out = `<IntervalBlock xmlns="${ESPI_NS}">${interval('interval', block)}`
  for (const r of readings) {
    // Schema order: cost, ReadingQuality*, timePeriod, value.
    const cost = r.cost == null ? '' : `<cost>${integer(r.cost, 'cost')}</cost>`
    const qualities = r.qualities
      .map((q) => `<ReadingQuality><quality>${integer(q, 'quality')}</quality></ReadingQuality>`)
      .join('')
    out += `<IntervalReading>${cost}${qualities}${interval('timePeriod', r)}<value>${integer(r.value, 'value')}</value></IntervalReading>`
  }
  return `${out}</IntervalBlock>`
}

export type AuthorizationState = 'active' | 'revoked' | 'terminated' | 'expired' | 'denied'
export type GrantType = 'authorization_code' | 'client_credentials' | 'refresh_token'

/**
 * ESPI AuthorizationStatus has three codes: 0 Revoked, 1 Active, 2 Denied. Access that has ended, whether
 * revoked, terminated by the customer or past its end, is 0: ESPI has no code of its own for the last two.
 */
export const ESPI_AUTHORIZATION_STATUS: Record<AuthorizationState, number> = {
  revoked: 0,
  terminated: 0,
  expired: 0,
  active: 1,
  denied: 2,
}

export interface Authorization {
  authorizedPeriod: DateTimeInterval
  publishedPeriod?: DateTimeInterval
  status: AuthorizationState
  /** Seconds since the epoch; the schema requires it, so the end of the authorized period when not given. */
  expiresAt?: number
  grantType?: GrantType
  scope: string
  /** The only token type the schema allows; always written. */
  tokenType?: 'Bearer'
  resourceURI: string
  authorizationURI: string
}

export function authorizationContent(a: Authorization): string {
  const expiresAt = a.expiresAt ?? a.authorizedPeriod.start + a.authorizedPeriod.duration
  return [
    `<Authorization xmlns="${ESPI_NS}">`,
    interval('authorizedPeriod', a.authorizedPeriod),
    a.publishedPeriod ? interval('publishedPeriod', a.publishedPeriod) : '',
    `<status>${ESPI_AUTHORIZATION_STATUS[a.status]}</status>`,
    `<expires_at>${integer(expiresAt, 'expires_at')}</expires_at>`,
    a.grantType ? element('grant_type', a.grantType) : '',
    element('scope', a.scope),
    element('token_type', a.tokenType ?? 'Bearer'),
    element('resourceURI', a.resourceURI),
    element('authorizationURI', a.authorizationURI),
    '</Authorization>',
  ].join('')
}

/** ESPI DataCustodianApplicationStatus: 2 Production (Live), 3 On Hold, 4 Revoked. */
const APPLICATION_STATUS: Record<Standing, number> = { active: 2, suspended: 3, revoked: 4 }

export interface ApplicationInformation {
  clientId: string
  name: string
  description?: string
  notifyUri: string
  redirectUris: string[]
  /** One element each; the schema allows 256 characters in each. */
  scope: string[]
  thirdPartyScopeSelectionScreenURI?: string
  standing: Standing
  dataCustodianId: string
  dataCustodianBulkRequestURI: string
  dataCustodianResourceEndpoint: string
  authorizationServerAuthorizationEndpoint: string
  authorizationServerTokenEndpoint: string
  /** This resource's own URI, where the third party reads its registration. */
  registrationClientUri: string
  /** Seconds since the epoch. */
  clientIdIssuedAt: number
}

/**
 * What a registered third party may read about its own registration. The schema requires client_secret
 * and registration_access_token, but a credential is never written out: both are present and empty, which
 * the schema allows. software_id and software_version are the third party's to assert and we keep neither,
 * so they are empty too. The OAuth fields are those every client is registered with (see oauth/adapter.ts).
 */
export function applicationInformationContent(app: ApplicationInformation): string {
  return [
    `<ApplicationInformation xmlns="${ESPI_NS}">`,
    element('dataCustodianId', app.dataCustodianId),
    `<dataCustodianApplicationStatus>${APPLICATION_STATUS[app.standing]}</dataCustodianApplicationStatus>`,
    app.description ? element('thirdPartyApplicationDescription', app.description) : '',
    element('thirdPartyNotifyUri', app.notifyUri),
    element('authorizationServerAuthorizationEndpoint', app.authorizationServerAuthorizationEndpoint),
    element('authorizationServerTokenEndpoint', app.authorizationServerTokenEndpoint),
    element('dataCustodianBulkRequestURI', app.dataCustodianBulkRequestURI),
    element('dataCustodianResourceEndpoint', app.dataCustodianResourceEndpoint),
    app.thirdPartyScopeSelectionScreenURI
      ? element('thirdPartyScopeSelectionScreenURI', app.thirdPartyScopeSelectionScreenURI)
      : '',
    '<client_secret/>',
    element('client_name', app.name),
    ...app.redirectUris.map((uri) => element('redirect_uri', uri)),
    element('client_id', app.clientId),
    '<software_id/><software_version/>',
    `<client_id_issued_at>${integer(app.clientIdIssuedAt, 'client_id_issued_at')}</client_id_issued_at>`,
    // 0: the secret does not expire.
    '<client_secret_expires_at>0</client_secret_expires_at>',
    '<token_endpoint_auth_method>client_secret_basic</token_endpoint_auth_method>',
    ...app.scope.map((s) => element('scope', s)),
    '<grant_types>authorization_code</grant_types><grant_types>client_credentials</grant_types>',
    '<grant_types>refresh_token</grant_types><response_types>code</response_types>',
    element('registration_client_uri', app.registrationClientUri),
    '<registration_access_token/>',
    '</ApplicationInformation>',
  ].join('')
}
