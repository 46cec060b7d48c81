import { allow, type Decision, deny } from '../decision/decision.js'
import type { EntitlementIndex } from '../entitlements/entitlement-index.js'
import { decideAccess } from '../entitlements/rules.js'
import { answerDelegation, type DelegationAnswer } from './delegation-evaluation.js'
import type { DelegationEvidence, DelegationRequest } from './delegation-shapes.js'

/**
 * The trust domain's rules: who reads and writes an issuer's delegation policies; how the delegation evidence
 * of a trust question is judged; and the BDI trust decision. Pure: the evidence is gathered (verified,
 * fetched) before it is judged here.
 *
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

/** Whether the membership holds at `now` (epoch seconds): active, and within its validity. */
export const activeAt = (m: Membership, now: number): boolean =>
  m.status === 'active' &&
  (m.validFrom === undefined || m.validFrom <= now) &&
  (m.validUntil === undefined || now < m.validUntil)

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
    (inputs.party?.memberships ?? []).filter((m) => activeAt(m, inputs.now)).map((m) => m.association),
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

/** The permission a delegate holds on `delegations:<issuer>` to write that issuer's policies. */
export const MANAGE_DELEGATIONS = 'manage_delegations'

/** The permission that lets a party read (and so copy) an issuer's policies: a register copy's, say. */
export const READ_DELEGATIONS = 'read_delegations'

/**
 * Only the policy issuer writes its policies, its delegates (who hold manage_delegations on the resource
 * `delegations:<issuer>`, granted with the entitlement engine; administrators hold every permission), or an
 * administrator the caller has already authorized (`userId` undefined).
 */
export function decideIssuer(index: EntitlementIndex, userId: string | undefined, issuer: string): Decision {
  if (userId === undefined) return allow('an administrator of this register', index.revision)
  if (userId === issuer) return allow(`${userId} is the policy issuer`, index.revision)
  const delegate = decideAccess(index, userId, MANAGE_DELEGATIONS, `delegations:${issuer}`)
  if (delegate.allowed) return delegate
  return deny(
    `${userId} may not write the policies of ${issuer}: only the policy issuer may, or a delegate holding ${MANAGE_DELEGATIONS} on delegations:${issuer}`,
    index.revision,
  )
}

/** Who may read an issuer's policies: whoever may write them, and holders of read_delegations on them. */
export function decideReader(index: EntitlementIndex, userId: string | undefined, issuer: string): Decision {
  if (userId !== undefined) {
    const reader = decideAccess(index, userId, READ_DELEGATIONS, `delegations:${issuer}`)
    if (reader.allowed) return reader
  }
  return decideIssuer(index, userId, issuer)
}

/** What a trust question asks of the delegation evidence: access by `party` to `type` resources. */
export interface EvidenceQuestion {
  party: string
  /** iSHARE action asked for; ISHARE.READ by default. */
  action?: string
  identifiers?: string[]
  attributes?: string[]
  /**
   * The service provider the access is through: whoever asks the decision. Evidence restricted to named
   * service providers applies only when it is one of them.
   */
  serviceProvider?: string
}

/**
 * The delegation request `issuer`'s evidence is evaluated against, for a question about `type` resources.
 * Identifiers and attributes the question leaves out are all of them (`*`): iSHARE's mask names both, and a
 * remote register answers with the mask's own targets.
 */
export function delegationAsk(question: EvidenceQuestion, issuer: string, type: string): DelegationRequest {
  return {
    policyIssuer: issuer,
    target: { accessSubject: question.party },
    policySets: [
      {
        policies: [
          {
            target: {
              resource: {
                type,
                identifiers: question.identifiers ?? ['*'],
                attributes: question.attributes ?? ['*'],
              },
              actions: [question.action ?? 'ISHARE.READ'],
              ...(question.serviceProvider
                ? { environment: { serviceProviders: [question.serviceProvider] } }
                : {}),
            },
          },
        ],
      },
    ],
  }
}

/** Gathered evidence, or why it could not be gathered (a signature that does not verify, a register down). */
export type Gathered<T> = { ok: true; value: T } | { ok: false; reason: string }

/**
 * The delegation evidence gathered for a trust question: what the request carried (verified for the asker),
 * else the data owner's evidence in this register, else the remote register's (asked only when this register
 * holds none and one is configured).
 */
export type FoundEvidence =
  | { from: 'request'; evidence: Gathered<DelegationEvidence> }
  | { from: 'register'; answer: DelegationAnswer }
  | { from: 'remote'; owner: string; evidence: Gathered<DelegationEvidence | undefined> }
  /** This register holds none of the owner's evidence, and no remote register is configured. */
  | { from: 'nowhere'; owner: string }

/** A granular authorization's outcome, as decideTrust takes it: permitted, and why. */
export type AuthorizationFinding = NonNullable<TrustInputs['authorization']>

/** Judges the evidence found for access by `question.party` to `type` resources, at `now` (epoch seconds). */
export function judgeEvidence(
  found: FoundEvidence,
  question: EvidenceQuestion,
  type: string,
  now: number,
): AuthorizationFinding {
  const judge = (answer: DelegationAnswer, how: string): AuthorizationFinding => ({
    permitted: answer.reasons.every((r) => r === 'permitted'),
    reason: `${how} from ${answer.evidence.policyIssuer}: ${answer.reasons.join('; ')}`,
  })
  const evaluate = (evidence: DelegationEvidence, issuer: string, how: string) =>
    judge(answerDelegation(evidence, delegationAsk(question, issuer, type), now), how)
  switch (found.from) {
    case 'request':
      return found.evidence.ok
        ? evaluate(found.evidence.value, found.evidence.value.policyIssuer, 'signed evidence')
        : { permitted: false, reason: found.evidence.reason }
    case 'register':
      return judge(found.answer, 'the register’s evidence')
    case 'remote':
      if (!found.evidence.ok) return { permitted: false, reason: found.evidence.reason }
      return found.evidence.value
        ? evaluate(found.evidence.value, found.owner, 'the remote register’s evidence')
        : {
            permitted: false,
            reason: `the remote register holds no evidence of ${found.owner} for ${question.party}`,
          }
    case 'nowhere':
      return {
        permitted: false,
        reason: `the register holds no evidence of ${found.owner} for ${question.party}`,
      }
  }
}
