import { invalid } from '../errors.js'
import { MAX_JSON_ANSWER, type OutboundClient, OutboundError } from '../net/guarded-fetch.js'
import { type SigningMaterial, signPartyJwt } from './ishare-jwt.js'

/**
 * Custodian as an iSHARE client: it authenticates at another party's token endpoint (a remote register, a
 * participant register) with a client assertion signed by its own key, and keeps the access token it gets
 * until shortly before it expires.
 */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
/** iSHARE: a client assertion lives 30 s at most. */
export const ASSERTION_LIFETIME_SECONDS = 30
export const ISHARE_SCOPE = 'iSHARE'
/** An access token is asked for again this long before it expires, so that none is sent as it lapses. */
const RENEW_BEFORE_MS = 60_000

/** A client assertion of `clientId` for the party `audience`'s token endpoint. */
export const clientAssertion = (
  material: SigningMaterial,
  clientId: string,
  audience: string,
  nowSeconds: number,
): Promise<string> =>
  signPartyJwt(
    material,
    {},
    { issuer: clientId, audience, nowSeconds, lifetimeSeconds: ASSERTION_LIFETIME_SECONDS },
  )

export interface PartyClientOptions {
  /** The party id this server goes by, named by its certificate. */
  clientId: string
  material: () => Promise<SigningMaterial>
  client: OutboundClient
  timeoutMs: number
  now: () => number
}

export class PartyClient {
  readonly #tokens = new Map<string, { token: string; untilMs: number }>()

  constructor(readonly options: PartyClientOptions) {}

  /**
   * An access token of the party `audience` serving at `baseUrl` (its `/connect/token`), for this server.
   * Throws a CustodianError naming the server asked and, when it refused, why.
   */
  async accessToken(baseUrl: string, audience: string): Promise<string> {
    const { clientId, client, timeoutMs, now } = this.options
    const key = `${audience} ${baseUrl}`
    const kept = this.#tokens.get(key)
    if (kept && now() < kept.untilMs) return kept.token
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: ISHARE_SCOPE,
      client_id: clientId,
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: await clientAssertion(
        await this.options.material(),
        clientId,
        audience,
        Math.floor(now() / 1000),
      ),
    })
    let status: number
    let answer: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown }
    try {
      const response = await client.fetch(`${baseUrl.replace(/\/$/, '')}/connect/token`, {
        what: `an access token of ${audience}`,
        failure: `${audience} could not be asked for an access token`,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        maxBytes: MAX_JSON_ANSWER,
        timeoutMs,
        accept: [400, 401],
      })
      status = response.status
      answer = JSON.parse(response.body.toString('utf8')) ?? {}
    } catch (error) {
      if (error instanceof OutboundError) throw invalid(error.message)
      throw invalid(`${audience} answered a token request with something that is not JSON`)
    }
    if (status !== 200 || typeof answer.access_token !== 'string')
      throw invalid(
        `${audience} refused this server's client assertion (as ${clientId}): ${String(answer.error ?? status)}${answer.error_description ? `: ${String(answer.error_description)}` : ''}`,
      )
    const seconds = typeof answer.expires_in === 'number' ? answer.expires_in : 0
    this.#tokens.set(key, { token: answer.access_token, untilMs: now() + seconds * 1000 - RENEW_BEFORE_MS })
    return answer.access_token
  }
}
