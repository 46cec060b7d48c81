import { type PartyJwtOptions, SignedJwtRefused, verifyPartyJwt } from './ishare-jwt.js'
import { ASSERTION_LIFETIME_SECONDS, CLIENT_ASSERTION_TYPE, ISHARE_SCOPE } from './party-client.js'

/**
 * An iSHARE party's token request (RFC 6749 client credentials, authenticated by an RFC 7523 client
 * assertion), read and its assertion verified. Refusals carry their RFC 6749 error code.
 */
export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_scope' | 'unsupported_grant_type'

export class OAuthRefusal extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    message: string,
  ) {
    super(message)
  }
  /** invalid_client is 401 (RFC 6749 5.2); every other refusal 400. */
  get status(): number {
    return this.error === 'invalid_client' ? 401 : 400
  }
}

export interface TokenRequest {
  clientId: string
  assertion: string
}

/** The form of a token request: every field iSHARE asks for, each given once. */
export function readTokenRequest(form: Record<string, unknown>): TokenRequest {
  const field = (name: string): string => {
    const value = form[name]
    if (value === undefined || value === '')
      throw new OAuthRefusal('invalid_request', `the form field ${name} is missing`)
    if (typeof value !== 'string')
      throw new OAuthRefusal('invalid_request', `the form field ${name} is given twice`)
    return value
  }
  const grant = field('grant_type')
  if (grant !== 'client_credentials')
    throw new OAuthRefusal(
      'unsupported_grant_type',
      `grant_type ${grant}: only client_credentials is served here`,
    )
  const scope = form.scope
  if (typeof scope !== 'string' || scope.split(' ').some((s) => s !== ISHARE_SCOPE) || scope === '')
    throw new OAuthRefusal(
      'invalid_scope',
      `scope must be ${ISHARE_SCOPE}, got ${JSON.stringify(scope ?? null)}`,
    )
  const type = field('client_assertion_type')
  if (type !== CLIENT_ASSERTION_TYPE)
    throw new OAuthRefusal('invalid_request', `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`)
  return { clientId: field('client_id'), assertion: field('client_assertion') }
}

export interface VerifiedAssertion {
  clientId: string
  jti: string
  exp: number
}

/**
 * Verifies a client assertion addressed to this server (`options.audience`, its party id): a party's JWT
 * (see ishare-jwt.ts) living at most 30 s, whose `iss` and `sub` are both the client id, so that the
 * certificate that signed it names the client. Whether its `jti` is new is the caller's to ask, last.
 */
export async function verifyClientAssertion(
  request: TokenRequest,
  options: Omit<PartyJwtOptions, 'maxLifetime'>,
): Promise<VerifiedAssertion> {
  const { clientId } = request
  try {
    const { payload, signer } = await verifyPartyJwt(request.assertion, {
      ...options,
      maxLifetime: { seconds: ASSERTION_LIFETIME_SECONDS, what: 'a client assertion' },
    })
    if (payload.sub !== payload.iss)
      throw new SignedJwtRefused(`its sub ${String(payload.sub)} is not its iss ${payload.iss}`)
    if (signer !== clientId)
      throw new SignedJwtRefused(`it is signed by ${signer}, not by the client ${clientId}`)
    return { clientId, jti: payload.jti, exp: payload.exp }
  } catch (error) {
    if (error instanceof SignedJwtRefused)
      throw new OAuthRefusal('invalid_client', `the client assertion is refused: ${error.message}`)
    throw error
  }
}
