import type { Decision } from '../decision/decision.js'

/**
 * The BDI trust decision: may a party access a data service, given its association memberships, the level of
 * assurance of its identity, its reputation, the data's classification and any granular authorization
 * (delegation evidence)? The trust decision matrix maps each classification to what it requires; a scheme
 * uses its association's matrix or, where the association allows it, its own. Pure.
 */

export const LEVELS = ['low', 'medium', 'high'] as const
export type Level = (typeof LEVELS)[number]
export const ASSURANCE = ['low', 'substantial', 'high'] as const
export type Assurance = (typeof ASSURANCE)[number]

/** What a classification requires: inputs at least at a level, combined with all (AND) or any (OR). */
export type Requirement =
  | { association: Level }
  | { reputation: Level }
  | { assurance: Assurance }
  | { authorization: true }
  | { all: Requirement[] }
  | { any: Requirement[] }

export type Matrix = Readonly<Record<string, Requirement>>

/** The seed's example matrix, the default for every association that sets none. */
export const DEFAULT_MATRIX: Matrix = {
  low: { all: [{ association: 'medium' }] },
  medium: { all: [{ association: 'medium' }, { reputation: 'medium' }] },
  high: { all: [{ association: 'high' }, { reputation: 'high' }, { authorization: true }] },
}

export interface Association {
  id: string
  /** Undefined for the root network. */
  parent?: string
  /** The association's matrix; undefined: its parent's, and at the root the default. */
  matrix?: Matrix
  /** Whether a data service of this association may set its own matrix. */
  ownLogicAllowed: boolean
}

export interface Membership {
  association: string
  status: 'active' | 'suspended' | 'revoked'
  /** Epoch seconds; undefined: open-ended. */
  validFrom?: number
  validUntil?: number
}

export interface PartyFacts {
  id: string
  memberships: Membership[]
  assurance?: Assurance
  reputation?: { level: Level; source: string; at: number }
  /** Why no reputation is known, when a source was asked and failed. */
  reputationNote?: string
}

export interface DataService {
  id: string
  association: string
  classification: string
  /** The service's own matrix, honoured only where its association allows its own logic. */
  matrix?: Matrix
}

export interface TrustInputs {
  associations: ReadonlyMap<string, Association>
  party: PartyFacts | undefined
  service: DataService
  /** The granular authorization's outcome, if one was looked for: permitted, and why. */
  authorization?: { permitted: boolean; reason: string }
  /** Epoch seconds. */
  now: number
  revision: number
}

/** One input of the decision, as an operator reads it: what was required, what was found, whether it held. */
export interface InputFinding {
  input: 'association' | 'reputation' | 'assurance' | 'authorization'
  required: string
  found: string
  satisfied: boolean
}

export interface TrustDecision extends Decision {
  classification: string
  /** Whose matrix applied: an association's, or the service's own. */
  matrixOf: string
  findings: InputFinding[]
}

/** The association and its ancestors up to the root network, nearest first. */
export function lineage(associations: ReadonlyMap<string, Association>, id: string): Association[] {
  const chain: Association[] = []
  for (
    let at = associations.get(id);
    at && !chain.includes(at);
    at = at.parent ? associations.get(at.parent) : undefined
  )
    chain.push(at)
  return chain
}

const rank = <T extends string>(scale: readonly T[], level: T | undefined) =>
  level ? scale.indexOf(level) : -1

/**
 * Association trust: high for an active member of the service's own association, medium through a parent
 * association, low through the root network only; none otherwise.
 */
function associationTrust(inputs: TrustInputs): { level: Level | undefined; via: string } {
  const chain = lineage(inputs.associations, inputs.service.association)
  const active = new Set(
    (inputs.party?.memberships ?? [])
      .filter(
        (m) =>
          m.status === 'active' &&
          (m.validFrom === undefined || m.validFrom <= inputs.now) &&
          (m.validUntil === undefined || inputs.now < m.validUntil),
      )
      .map((m) => m.association),
  )
  const at = chain.findIndex((a) => active.has(a.id))
  if (at < 0)
    return { level: undefined, via: 'no active membership in the service’s association or its parents' }
  const level: Level = at === 0 ? 'high' : at === chain.length - 1 ? 'low' : 'medium'
  const through = chain[at]?.id as string
  return { level, via: at === 0 ? `member of ${through}` : `member of ${through}, a parent association` }
}

/** Which matrix applies: the service's own where allowed, else the nearest association's, else the default. */
export function matrixFor(inputs: Pick<TrustInputs, 'associations' | 'service'>): {
  matrix: Matrix
  of: string
} {
  const chain = lineage(inputs.associations, inputs.service.association)
  if (inputs.service.matrix && chain[0]?.ownLogicAllowed)
    return { matrix: inputs.service.matrix, of: inputs.service.id }
  const owner = chain.find((a) => a.matrix)
  return owner?.matrix
    ? { matrix: owner.matrix, of: owner.id }
    : { matrix: DEFAULT_MATRIX, of: 'the BDI default' }
}

export function decideTrust(inputs: TrustInputs): TrustDecision {
  const { matrix, of } = matrixFor(inputs)
  const { classification } = inputs.service
  const requirement = matrix[classification]
  const base = { classification, matrixOf: of, obligations: [], revision: inputs.revision }
  if (!requirement) {
    return {
      ...base,
      allowed: false,
      reason: `${inputs.service.id} is classified ${classification}, which the matrix of ${of} does not know (it knows ${Object.keys(matrix).join(', ')})`,
      findings: [],
    }
  }
  if (!inputs.party)
    return { ...base, allowed: false, reason: 'the party is not known to this register', findings: [] }
  const party = inputs.party
  const association = associationTrust(inputs)
  const findings: InputFinding[] = []
  const check = (r: Requirement): boolean => {
    if ('all' in r) return r.all.map(check).every(Boolean)
    if ('any' in r) return r.any.map(check).some(Boolean)
    if ('association' in r) {
      const satisfied = rank(LEVELS, association.level) >= rank(LEVELS, r.association)
      findings.push({
        input: 'association',
        required: r.association,
        found: `${association.level ?? 'none'} (${association.via})`,
        satisfied,
      })
      return satisfied
    }
    if ('reputation' in r) {
      const rep = party.reputation
      const satisfied = rank(LEVELS, rep?.level) >= rank(LEVELS, r.reputation)
      findings.push({
        input: 'reputation',
        required: r.reputation,
        found: rep
          ? `${rep.level} (from ${rep.source} at ${new Date(rep.at * 1000).toISOString()})`
          : `none${party.reputationNote ? ` (${party.reputationNote})` : ''}`,
        satisfied,
      })
      return satisfied
    }
    if ('assurance' in r) {
      const satisfied = rank(ASSURANCE, party.assurance) >= rank(ASSURANCE, r.assurance)
      findings.push({
        input: 'assurance',
        required: r.assurance,
        found: party.assurance ?? 'none',
        satisfied,
      })
      return satisfied
    }
    const satisfied = inputs.authorization?.permitted === true
    findings.push({
      input: 'authorization',
      required: 'a granular authorization (delegation evidence) permitting it',
      found: inputs.authorization?.reason ?? 'no delegation evidence given or found',
      satisfied,
    })
    return satisfied
  }
  const allowed = check(requirement)
  const missing = findings.filter((f) => !f.satisfied)
  return {
    ...base,
    allowed,
    reason: allowed
      ? `${party.id} meets what ${classification} data requires under the matrix of ${of}`
      : `${party.id} does not meet what ${classification} data requires under the matrix of ${of}: ${missing.map((f) => `${f.input} ${f.required} required, found ${f.found}`).join('; ')}`,
    findings,
  }
}
