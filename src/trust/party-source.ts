import { HttpSource } from './information-source.js'
import { type PartyJwtOptions, SignedJwtRefused, verifyPartyJwt } from './ishare-jwt.js'
import type { RegisterModel } from './register-model.js'
import { activeAt } from './rules.js'

/**
 * Whether a party may act now, as the scheme's participant register says: asked before a party gets an
 * access token, on each use of it, and of the parties signed evidence names (party-standing.ts). The parties
 * recorded here (their memberships), or an iSHARE Satellite's `/parties`. `unknown`: it has no record of them.
 */
export type PartyStanding = { active: true } | { active: false; reason: string; unknown?: true }

export interface PartySource {
  standing(partyId: string): Promise<PartyStanding>
  /**
   * Whether it is the scheme's register of every party (a Satellite), so that a party it does not know is no
   * party; the parties recorded here are only those this server decides trust about.
   */
  readonly knowsEveryParty: boolean
}

/**
 * A party recorded here (PUT /v1/trust/parties) stands when none of its memberships is recorded, or one of
 * them is active now; unrecorded, it is unknown.
 */
export function recordedStanding(model: RegisterModel, partyId: string, nowSeconds: number): PartyStanding {
  if (!model.parties.get(partyId))
    return {
      active: false,
      reason: `${partyId} is not a party recorded in this participant register`,
      unknown: true,
    }
  const memberships = model.network.memberships.get(partyId) ?? []
  if (memberships.length === 0 || memberships.some((m) => activeAt(m, nowSeconds))) return { active: true }
  const each = memberships.map(
    (m) => `${m.association}: ${m.status === 'active' ? 'outside its validity' : m.status}`,
  )
  return { active: false, reason: `${partyId} has no active membership (${each.join(', ')})` }
}

/** What a Satellite's party_token says of one party (iSHARE `parties_info.data[]`). */
interface SatelliteParty {
  party_id?: unknown
  adherence?: { status?: unknown; start_date?: unknown; end_date?: unknown }
}

/** The standing a Satellite's `parties_info` gives `partyId` at `nowMs`. */
export function satelliteStanding(partiesInfo: unknown, partyId: string, nowMs: number): PartyStanding {
  const data = (partiesInfo as { data?: unknown } | undefined)?.data
  if (!Array.isArray(data)) throw new Error('its party_token has no parties_info.data list')
  const party = (data as SatelliteParty[]).find((p) => p?.party_id === partyId)
  if (!party)
    return { active: false, reason: `the participant register does not know ${partyId}`, unknown: true }
  const { status, start_date: start, end_date: end } = party.adherence ?? {}
  if (status !== 'Active')
    return {
      active: false,
      reason: `the participant register says ${partyId} is ${String(status ?? 'not adherent')}`,
    }
  const from = typeof start === 'string' ? Date.parse(start) : Number.NEGATIVE_INFINITY
  const until = typeof end === 'string' ? Date.parse(end) : Number.POSITIVE_INFINITY
  if (!(from <= nowMs && nowMs < until)) {
    const span = [
      typeof start === 'string' ? `from ${start}` : '',
      typeof end === 'string' ? `until ${end}` : '',
    ]
    return {
      active: false,
      reason: `the participant register says ${partyId} adheres ${span.filter(Boolean).join(' ')}, not now`,
    }
  }
  return { active: true }
}

/** A party token lives as long as other iSHARE JWTs: 30 s. */
const PARTY_TOKEN_LIFETIME_SECONDS = 30

export interface SatelliteOptions {
  /** The Satellite's base URL; asked `GET {url}/parties?eori={id}`. */
  url: string
  /** The Satellite's party id: who must sign its party tokens. */
  satelliteId: string
  /** How its party tokens are verified: this server's roots, its own id as audience, its clock. */
  verifying: () => Promise<Omit<PartyJwtOptions, 'maxLifetime'>>
  /** The access token this server asks with (see party-client.ts). */
  accessToken: () => Promise<string>
  source: Omit<ConstructorParameters<typeof HttpSource>[3], 'headers'>
}

/** An iSHARE Satellite's `/parties`, asked with this server's access token, its signed answer verified. */
export class SatelliteParties implements PartySource {
  readonly knowsEveryParty = true
  readonly #source: HttpSource<PartyStanding>
  readonly #options: SatelliteOptions

  constructor(options: SatelliteOptions) {
    this.#options = options
    this.#source = new HttpSource(
      'the participant register',
      `${options.url.replace(/\/$/, '')}/parties?eori={id}`,
      (json, partyId) => this.#read(json, partyId),
      {
        ...options.source,
        headers: async () => ({ authorization: `Bearer ${await options.accessToken()}` }),
      },
    )
  }

  /** The signed answer: a party_token of the Satellite, for this server, saying how `partyId` stands. */
  async #read(json: unknown, partyId: string): Promise<PartyStanding> {
    const token = (json as { party_token?: unknown } | null)?.party_token
    if (typeof token !== 'string') throw new Error('expected {"party_token": "<JWT>"}')
    const { satelliteId, verifying } = this.#options
    const options = await verifying()
    let verified: Awaited<ReturnType<typeof verifyPartyJwt>>
    try {
      verified = await verifyPartyJwt(token, {
        ...options,
        maxLifetime: { seconds: PARTY_TOKEN_LIFETIME_SECONDS, what: 'a party token' },
      })
    } catch (error) {
      if (error instanceof SignedJwtRefused) throw new Error(`its party_token is refused: ${error.message}`)
      throw error
    }
    if (verified.signer !== satelliteId)
      throw new Error(`its party_token is signed by ${verified.signer}, not by ${satelliteId}`)
    return satelliteStanding(verified.payload.parties_info, partyId, options.nowSeconds * 1000)
  }

  async standing(partyId: string): Promise<PartyStanding> {
    const answer = await this.#source.get(partyId)
    return answer.ok ? answer.value : { active: false, reason: answer.reason }
  }
}
