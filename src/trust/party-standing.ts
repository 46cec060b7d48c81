import { InvalidAccessTokenError } from '../errors.js'
import type { Node } from '../kernel/node.js'
import { outboundClient } from '../net/guarded-fetch.js'
import { type PartyJwtOptions, SignedJwtRefused } from './ishare-jwt.js'
import type { PartyClient } from './party-client.js'
import { type PartySource, type PartyStanding, recordedStanding, SatelliteParties } from './party-source.js'

/**
 * How long a Satellite's word on a party is reused at most, whatever `sourceCacheSeconds` says: a party's
 * tokens are re-checked on each use, so a suspension there reaches the tokens already given within this.
 */
export const STANDING_CACHE_SECONDS = 60

/**
 * The scheme's participant register as this server asks it (issue 16): before a party gets an access token,
 * on each use of that token, and of the parties signed evidence names. A Satellite when one is configured
 * (cached), else the parties recorded here (read from the Index on each question, so that a suspension
 * recorded with PUT /v1/trust/parties takes effect at once).
 */
export class Parties {
  readonly #custodian: Node
  readonly #source: PartySource

  constructor(
    custodian: Node,
    /** What a JWT addressed to this server is verified against (a Satellite's party tokens). */
    addressedHere: () => Promise<Omit<PartyJwtOptions, 'maxLifetime'>>,
    /** This server as an iSHARE client: the access token it asks the Satellite with. */
    client: PartyClient,
  ) {
    this.#custodian = custodian
    const { participantRegister, participantRegisterId, sourceTimeoutMs, sourceCacheSeconds } =
      custodian.config
    this.#source = participantRegister
      ? new SatelliteParties({
          url: participantRegister,
          satelliteId: participantRegisterId,
          verifying: addressedHere,
          accessToken: () => client.accessToken(participantRegister, participantRegisterId),
          source: {
            timeoutMs: sourceTimeoutMs,
            cacheMs: Math.min(sourceCacheSeconds, STANDING_CACHE_SECONDS) * 1000,
            now: () => custodian.now(),
            client: outboundClient(custodian),
          },
        })
      : {
          knowsEveryParty: false,
          standing: async (id) =>
            recordedStanding(custodian.register, id, Math.floor(custodian.now() / 1000)),
        }
  }

  standing(partyId: string): Promise<PartyStanding> {
    return this.#source.standing(partyId)
  }

  /**
   * A party's access token (got with a client assertion) works while its party stands: refused, 401
   * invalid_token with the reason (audited), once the participant register says it no longer does. Other
   * tokens, and tokens the usual check refuses anyway, are left to that check.
   */
  async checkToken(token: string | undefined, action: string, resource: string): Promise<void> {
    if (token === undefined) return
    const held = this.#custodian.whoHolds(token)
    if (!held.ok || held.token.method !== 'client_assertion') return
    const party = held.token.user_id
    const standing = await this.standing(party)
    if (standing.active) return
    const reason = `token ${held.token.id} of ${party} was given to a party that is no longer active: ${standing.reason}`
    this.#custodian.audit({ actor: party, action, resource, outcome: 'InvalidAccessToken', reason })
    throw new InvalidAccessTokenError(`${action} on ${resource} refused: ${reason}`, {
      oauthError: 'invalid_token',
    })
  }

  /**
   * Signed evidence speaks only while the parties it names stand: its signer, and the policy issuer it
   * speaks for. This server's own signature is not asked about. A party the register has no record of is
   * refused where the register knows every party (a Satellite, as iSHARE does); the parties recorded here
   * refuse only a party recorded and not active, as evidence of owners never recorded here is ordinary
   * there. Throws EvidenceRefused (SignedJwtRefused) saying which party, and why.
   */
  async checkEvidence(signer: string, policyIssuer: string): Promise<void> {
    const { registerId } = this.#custodian.config
    const named: [string, string][] = [['signer', signer]]
    if (policyIssuer !== signer) named.push(['policy issuer', policyIssuer])
    for (const [role, party] of named) {
      if (party === registerId) continue
      const standing = await this.standing(party)
      if (standing.active || (standing.unknown && !this.#source.knowsEveryParty)) continue
      throw new SignedJwtRefused(`its ${role} ${party} is not an active party: ${standing.reason}`)
    }
  }
}
