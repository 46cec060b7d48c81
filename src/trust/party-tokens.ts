import type { Node } from '../kernel/node.js'
import { buildCapabilities, CAPABILITIES_LIFETIME_SECONDS } from './capabilities.js'
import { OAuthRefusal, readTokenRequest, verifyClientAssertion } from './client-assertion.js'
import type { DelegationService } from './delegation-service.js'
import { signPartyJwt } from './ishare-jwt.js'
import { ISHARE_SCOPE } from './party-client.js'

/** iSHARE: a party's access token lives an hour. */
export const PARTY_TOKEN_LIFETIME_SECONDS = 3600

export interface TokenAnswer {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
}

/**
 * The iSHARE token endpoint at the edge: a party's client assertion verified, its standing asked of the
 * participant register, its `jti` claimed once, then an access token (a session of the party's user) given.
 * Also the signed capabilities this server publishes.
 */
export class PartyTokens {
  readonly #custodian: Node
  readonly #delegation: DelegationService

  constructor(custodian: Node, delegation: DelegationService) {
    this.#custodian = custodian
    this.#delegation = delegation
  }

  /** Answers a token request's form, or throws OAuthRefusal (audited) saying why. */
  async issue(form: Record<string, unknown>, address: string): Promise<TokenAnswer> {
    const custodian = this.#custodian
    const claimed = typeof form.client_id === 'string' ? form.client_id.slice(0, 200) : '-'
    try {
      const request = readTokenRequest(form)
      const { clientId, jti, exp } = await verifyClientAssertion(
        request,
        await this.#delegation.addressedHere(),
      )
      const standing = await this.#delegation.parties.standing(clientId)
      if (!standing.active)
        throw new OAuthRefusal('invalid_client', `${clientId} is not an active party: ${standing.reason}`)
      const { clockSkewSeconds } = custodian.config
      // Claimed last, once everything else is accepted; kept past exp by the skew, as evidence's are.
      if (
        !(await custodian.store.replay.claimJti(
          clientId,
          jti,
          (exp + clockSkewSeconds) * 1000,
          custodian.now(),
        ))
      )
        throw new OAuthRefusal(
          'invalid_client',
          `the client assertion's jti ${jti} of ${clientId} was used before: an assertion is accepted once`,
        )
      const session = await custodian.partySession(clientId, PARTY_TOKEN_LIFETIME_SECONDS, { address })
      return {
        access_token: session.token,
        token_type: 'Bearer',
        expires_in: PARTY_TOKEN_LIFETIME_SECONDS,
        scope: ISHARE_SCOPE,
      }
    } catch (error) {
      if (error instanceof OAuthRefusal)
        custodian.audit({
          actor: 'anonymous',
          action: 'party.token',
          resource: claimed,
          outcome: error.error,
          reason: error.message,
        })
      throw error
    }
  }

  /** The signed capabilities: the public features for anyone; with a valid token, the restricted ones too. */
  async capabilities(token: string | undefined): Promise<string> {
    const custodian = this.#custodian
    await this.#delegation.parties.checkToken(token, 'capabilities', '-')
    const asker = token === undefined ? undefined : custodian.authenticate(token, 'capabilities', '-')
    const { registerId } = custodian.config
    return signPartyJwt(
      await this.#delegation.material(),
      { capabilities_info: buildCapabilities(registerId, custodian.publicUrl, asker !== undefined) },
      {
        issuer: registerId,
        ...(asker ? { audience: asker } : {}),
        nowSeconds: Math.floor(custodian.now() / 1000),
        lifetimeSeconds: CAPABILITIES_LIFETIME_SECONDS,
      },
    )
  }
}
