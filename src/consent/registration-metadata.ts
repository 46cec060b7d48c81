import { parseEspiScope } from './espi-scope.js'

/**
 * What a third party may register about itself through RFC 7591 (and change through RFC 7592): the
 * metadata of a Custodian third party, checked more strictly than an administrator's registration, since
 * nobody at the utility looked at it. Pure.
 *
 * The ESPI fields a third party registers besides RFC 7591's go by their ApplicationInformation element
 * names: `thirdPartyNotifyUri` (required), `thirdPartyApplicationDescription`,
 * `thirdPartyScopeSelectionScreenURI`. Metadata this server does not know is ignored (RFC 7591 §2).
 */

/** Every third party is a confidential client of the code flow, with refresh and client_credentials. */
export const REGISTERED_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const
export const REGISTERED_AUTH_METHOD = 'client_secret_basic'
const MAX_REDIRECT_URIS = 20
const MAX_URI = 2000
const MAX_NAME = 200
const MAX_DESCRIPTION = 2000

export interface SelfRegistration {
  name: string
  description: string
  redirectUris: string[]
  notifyUri: string
  /** One ESPI scope: the widest the third party may ask customers for. */
  scope: string
  scopeSelectionUri?: string
}

/** RFC 7591 §3.2.2 error codes this server answers with. */
export type RegistrationErrorCode =
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_software_statement'

export type MetadataCheck =
  | { ok: true; registration: SelfRegistration }
  | { ok: false; error: RegistrationErrorCode; description: string }

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** An https URL, or http on this machine (a third party's developer testing): else why not. */
function uriProblem(uri: unknown, field: string): string | undefined {
  if (typeof uri !== 'string' || uri.length === 0) return `${field} must be a non-empty string`
  if (uri.length > MAX_URI) return `${field} is longer than ${MAX_URI} characters`
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return `${field} "${uri}" is not an absolute URL`
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
    return `${field} "${uri}" must use https (http only for localhost)`
  if (url.hash) return `${field} "${uri}" must not have a fragment`
  if (url.username || url.password) return `${field} "${uri}" must not carry credentials`
  return undefined
}

const fail = (error: RegistrationErrorCode, description: string): MetadataCheck => ({
  ok: false,
  error,
  description,
})

/** An optional list field: absent, or an array of strings each among `allowed`. */
function listProblem(body: Record<string, unknown>, field: string, allowed: readonly string[]) {
  const value = body[field]
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    return `${field} must be an array of strings`
  const other = value.find((v) => !allowed.includes(v as string))
  return other === undefined
    ? undefined
    : `${field} "${other}" is not offered here (only ${allowed.join(', ')})`
}

/**
 * The registration a third party asked for, or the RFC 7591 error naming the first field that is wrong.
 * The server answers with every ESPI grant type whatever subset was asked for (RFC 7591 §3.2.1 lets it
 * replace requested values), as administrators' registrations have them all.
 */
export function checkClientMetadata(body: unknown): MetadataCheck {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return fail('invalid_client_metadata', 'the registration request must be a JSON object')
  const b = body as Record<string, unknown>
  if (b.software_statement !== undefined)
    return fail(
      'invalid_software_statement',
      'software statements are not accepted here: register with an initial access token from the utility',
    )

  const uris = b.redirect_uris
  if (!Array.isArray(uris) || uris.length === 0)
    return fail('invalid_redirect_uri', 'redirect_uris must be a non-empty array of URLs')
  if (uris.length > MAX_REDIRECT_URIS)
    return fail('invalid_redirect_uri', `redirect_uris has more than ${MAX_REDIRECT_URIS} entries`)
  for (const [i, uri] of uris.entries()) {
    const problem = uriProblem(uri, `redirect_uris[${i}]`)
    if (problem) return fail('invalid_redirect_uri', problem)
  }

  const name = b.client_name
  if (typeof name !== 'string' || name.trim().length === 0)
    return fail('invalid_client_metadata', 'client_name is required: customers see it when asked to consent')
  if (name.length > MAX_NAME)
    return fail('invalid_client_metadata', `client_name is longer than ${MAX_NAME} characters`)

  const scope = b.scope
  if (typeof scope !== 'string')
    return fail(
      'invalid_client_metadata',
      'scope is required: the widest ESPI scope customers will be asked for',
    )
  const parsed = parseEspiScope(scope)
  if (!parsed.ok)
    return fail(
      'invalid_client_metadata',
      `scope "${scope}": ${parsed.part ? `${parsed.part}: ` : ''}${parsed.reason}`,
    )
  // The bulk request id names a set of the utility's data: the utility assigns it, not the third party.
  if (parsed.scope.bulkId !== undefined)
    return fail('invalid_client_metadata', 'scope: BR (a bulk request id) is assigned by the utility')

  const notify = uriProblem(b.thirdPartyNotifyUri, 'thirdPartyNotifyUri')
  if (notify) return fail('invalid_client_metadata', notify)
  const selection = b.thirdPartyScopeSelectionScreenURI
  const selectionProblem =
    selection === undefined ? undefined : uriProblem(selection, 'thirdPartyScopeSelectionScreenURI')
  if (selectionProblem) return fail('invalid_client_metadata', selectionProblem)
  const description = b.thirdPartyApplicationDescription ?? ''
  if (typeof description !== 'string' || description.length > MAX_DESCRIPTION)
    return fail(
      'invalid_client_metadata',
      `thirdPartyApplicationDescription must be a string of at most ${MAX_DESCRIPTION} characters`,
    )

  const listed =
    listProblem(b, 'grant_types', REGISTERED_GRANT_TYPES) ?? listProblem(b, 'response_types', ['code'])
  if (listed) return fail('invalid_client_metadata', listed)
  const method = b.token_endpoint_auth_method
  if (method !== undefined && method !== REGISTERED_AUTH_METHOD)
    return fail(
      'invalid_client_metadata',
      `token_endpoint_auth_method "${String(method)}" is not offered here (only ${REGISTERED_AUTH_METHOD})`,
    )

  return {
    ok: true,
    registration: {
      name: name.trim(),
      description,
      redirectUris: [...new Set(uris as string[])],
      notifyUri: b.thirdPartyNotifyUri as string,
      scope: parsed.scope.text,
      ...(typeof selection === 'string' ? { scopeSelectionUri: selection } : {}),
    },
  }
}

/** A registered third party as RFC 7591/7592 describe it: its metadata, never a secret. */
export function clientMetadata(party: {
  client_id: string
  name: string
  description: string
  redirect_uris: string
  notify_uri: string
  scope: string
  scope_selection_uri: string | null
  created_at: string
}) {
  return {
    client_id: party.client_id,
    client_id_issued_at: Math.floor(Date.parse(party.created_at) / 1000),
    client_name: party.name,
    redirect_uris: JSON.parse(party.redirect_uris) as string[],
    grant_types: [...REGISTERED_GRANT_TYPES],
    response_types: ['code'],
    token_endpoint_auth_method: REGISTERED_AUTH_METHOD,
    scope: party.scope,
    thirdPartyNotifyUri: party.notify_uri,
    ...(party.description ? { thirdPartyApplicationDescription: party.description } : {}),
    ...(party.scope_selection_uri ? { thirdPartyScopeSelectionScreenURI: party.scope_selection_uri } : {}),
  }
}
