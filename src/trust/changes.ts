import { type Config, settings } from '../config.js'
import { enforce } from '../decision/enforce.js'
import { invalid, notFound, tooLarge } from '../errors.js'
import type { Index } from '../kernel/projections.js'
import type { Plan } from '../kernel/write-plan.js'
import { checkId } from '../validation.js'
import type { DelegationEvidence } from './delegation-shapes.js'
import { ASSURANCE, decideIssuer, LEVELS, type Level, type Matrix, type Requirement } from './rules.js'

/**
 * Pure write planners for the trust register: delegation policies (written by their issuer or its delegates,
 * see decideIssuer), associations, parties and classified data services. Each returns the rows to commit or
 * throws a CustodianError naming what is wrong.
 */

export function putPolicy(
  world: Index,
  userId: string | undefined,
  evidence: DelegationEvidence,
  now: string,
): Plan {
  enforce(decideIssuer(world.index, userId, evidence.policyIssuer))
  const existing = world.register.policy(evidence.policyIssuer, evidence.target.accessSubject)
  return {
    changes: [
      {
        tbl: 'ishare_policies',
        op: 'put',
        row: {
          policy_issuer: evidence.policyIssuer,
          access_subject: evidence.target.accessSubject,
          evidence: JSON.stringify(evidence),
          updated_at: now,
        },
      },
    ],
    summary: `${existing ? 'replaced' : 'stored'} the delegation evidence of ${evidence.policyIssuer} for ${evidence.target.accessSubject}`,
  }
}

/**
 * Makes this register's copy of an issuer's policies what a remote register holds: puts each, removes the
 * ones the remote no longer has.
 */
export function mirrorPolicies(
  world: Index,
  userId: string | undefined,
  issuer: string,
  remote: readonly DelegationEvidence[],
  now: string,
): Plan {
  enforce(decideIssuer(world.index, userId, issuer))
  const foreign = remote.find((e) => e.policyIssuer !== issuer)
  if (foreign) throw invalid(`the remote register sent a policy of ${foreign.policyIssuer} among ${issuer}'s`)
  const kept = new Set(remote.map((e) => e.target.accessSubject))
  const gone = world.register.policiesOf(issuer).filter((row) => !kept.has(row.access_subject))
  return {
    changes: [
      ...remote.map((evidence) => ({
        tbl: 'ishare_policies' as const,
        op: 'put' as const,
        row: {
          policy_issuer: issuer,
          access_subject: evidence.target.accessSubject,
          evidence: JSON.stringify(evidence),
          updated_at: now,
        },
      })),
      ...gone.map((row) => ({
        tbl: 'ishare_policies' as const,
        op: 'delete' as const,
        row: { policy_issuer: issuer, access_subject: row.access_subject },
      })),
    ],
    summary: `mirrored ${remote.length} policy(ies) of ${issuer} from the remote register, removed ${gone.length}`,
  }
}

export function removePolicy(
  world: Index,
  userId: string | undefined,
  issuer: string,
  subject: string,
): Plan {
  enforce(decideIssuer(world.index, userId, issuer))
  if (!world.register.policy(issuer, subject))
    throw notFound(`${issuer} has no delegation evidence for ${subject}`)
  return {
    changes: [
      { tbl: 'ishare_policies', op: 'delete', row: { policy_issuer: issuer, access_subject: subject } },
    ],
    summary: `removed the delegation evidence of ${issuer} for ${subject}`,
  }
}

// --- BDI trust inputs ----------------------------------------------------------------------------------

const oneOf = <T extends string>(scale: readonly T[], value: unknown, path: string): T => {
  if (!scale.includes(value as T))
    throw invalid(`${path}: must be one of ${scale.join(', ')}, got ${JSON.stringify(value)}`)
  return value as T
}

/** How large a trust decision matrix may be: requirements nested at most `depth` deep, `size` in all. */
export interface MatrixLimits {
  depth: number
  size: number
}

export const matrixLimits = (config: Pick<Config, 'maxJsonDepth' | 'maxMatrixSize'>): MatrixLimits => ({
  depth: config.maxJsonDepth,
  size: config.maxMatrixSize,
})

/**
 * Reads a trust decision matrix, naming the field of any fault. Past `limits` it is refused before more of it
 * is read: nested too deeply (400) or too large (413), naming the limit and its setting.
 */
export function parseMatrix(
  json: unknown,
  path = 'matrix',
  limits: MatrixLimits = matrixLimits({
    maxJsonDepth: settings.maxJsonDepth.default,
    maxMatrixSize: settings.maxMatrixSize.default,
  }),
): Matrix {
  if (typeof json !== 'object' || json === null || Array.isArray(json) || Object.keys(json).length === 0)
    throw invalid(`${path}: must be an object from classification to requirement`)
  let size = 0
  // Counted as read; an array larger than what is left is refused before any of it is read.
  const counted = (at: string, more = 1) => {
    size += more
    if (size > limits.size)
      throw tooLarge(
        `${at}: ${path} has more than ${limits.size} classifications and requirements (the limit maxMatrixSize, --max-matrix-size)`,
      )
  }
  const requirement = (value: unknown, at: string, depth: number): Requirement => {
    counted(at)
    if (depth > limits.depth)
      throw invalid(
        `${at}: requirements nest more than ${limits.depth} deep (the limit maxJsonDepth, --max-json-depth)`,
      )
    if (
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value) ||
      Object.keys(value).length !== 1
    )
      throw invalid(
        `${at}: must be one of {all: [...]}, {any: [...]}, {association}, {reputation}, {assurance}, {authorization: true}`,
      )
    const [key, inner] = Object.entries(value)[0] as [string, unknown]
    switch (key) {
      case 'all':
      case 'any':
        if (!Array.isArray(inner)) throw invalid(`${at}.${key}: must be an array`)
        if (size + inner.length > limits.size) counted(`${at}.${key}`, inner.length)
        return {
          [key]: inner.map((r, i) => requirement(r, `${at}.${key}[${i}]`, depth + 1)),
        } as Requirement
      case 'association':
      case 'reputation':
        return { [key]: oneOf(LEVELS, inner, `${at}.${key}`) } as Requirement
      case 'assurance':
        return { assurance: oneOf(ASSURANCE, inner, `${at}.assurance`) }
      case 'authorization':
        if (inner !== true) throw invalid(`${at}.authorization: must be true`)
        return { authorization: true }
      default:
        throw invalid(`${at}: unknown requirement "${key}"`)
    }
  }
  const entries = Object.entries(json)
  if (entries.length > limits.size) counted(path, entries.length)
  return Object.fromEntries(
    entries.map(([c, r]) => {
      counted(`${path}.${c}`)
      return [c, requirement(r, `${path}.${c}`, 1)]
    }),
  )
}

export function putAssociation(
  { register }: Index,
  input: {
    id: string
    parent?: string
    matrix?: unknown
    ownLogicAllowed?: boolean
    now: string
    limits?: MatrixLimits
  },
): Plan {
  checkId('association', input.id)
  if (input.parent !== undefined) {
    if (!register.associations.has(input.parent))
      throw notFound(`parent association ${input.parent} does not exist`)
    // A parent chain must end at the root network, never loop back.
    for (let at: string | null | undefined = input.parent; at; at = register.associations.get(at)?.parent)
      if (at === input.id) throw invalid(`association ${input.id} cannot be its own ancestor`)
  }
  return {
    changes: [
      {
        tbl: 'bdi_associations',
        op: 'put',
        row: {
          id: input.id,
          parent: input.parent ?? null,
          matrix:
            input.matrix === undefined
              ? null
              : JSON.stringify(parseMatrix(input.matrix, 'matrix', input.limits)),
          own_logic_allowed: input.ownLogicAllowed ? 1 : 0,
          updated_at: input.now,
        },
      },
    ],
    summary: `${register.associations.has(input.id) ? 'updated' : 'added'} association ${input.id}${input.parent ? ` under ${input.parent}` : ' (a root network)'}`,
  }
}

export interface PartyInput {
  id: string
  assurance?: string
  reputation?: { level?: string; score?: number; source: string; at?: number }
  memberships: { association: string; status?: string; validFrom?: number; validUntil?: number }[]
}

/** A reputation score (0-100) read as a level: 75 and up high, 50 and up medium. */
export const levelOfScore = (score: number): Level => (score >= 75 ? 'high' : score >= 50 ? 'medium' : 'low')

/** Records what is known of a party; its memberships are replaced by the ones given. */
export function putParty({ register }: Index, input: PartyInput, now: string): Plan {
  checkId('party', input.id)
  const reputation = input.reputation
  let level: Level | undefined
  if (reputation) {
    if (reputation.score !== undefined && (reputation.score < 0 || reputation.score > 100))
      throw invalid('reputation.score: must be 0 to 100')
    level =
      reputation.level !== undefined
        ? oneOf(LEVELS, reputation.level, 'reputation.level')
        : reputation.score !== undefined
          ? levelOfScore(reputation.score)
          : undefined
    if (!level) throw invalid('reputation: give a level or a score')
  }
  const memberships = input.memberships.map((m, i) => {
    if (!register.associations.has(m.association))
      throw notFound(`memberships[${i}].association: ${m.association} does not exist`)
    return {
      party_id: input.id,
      association_id: m.association,
      status: oneOf(
        ['active', 'suspended', 'revoked'] as const,
        m.status ?? 'active',
        `memberships[${i}].status`,
      ),
      valid_from: m.validFrom ?? null,
      valid_until: m.validUntil ?? null,
    }
  })
  const stale = [...register.memberships.values()].filter(
    (m) => m.party_id === input.id && !memberships.some((n) => n.association_id === m.association_id),
  )
  return {
    changes: [
      {
        tbl: 'bdi_parties',
        op: 'put',
        row: {
          id: input.id,
          assurance: input.assurance === undefined ? null : oneOf(ASSURANCE, input.assurance, 'assurance'),
          reputation:
            reputation && level
              ? JSON.stringify({
                  level,
                  source: reputation.source,
                  at: reputation.at ?? Math.floor(Date.parse(now) / 1000),
                })
              : null,
          updated_at: now,
        },
      },
      ...stale.map((m) => ({
        tbl: 'bdi_memberships' as const,
        op: 'delete' as const,
        row: { party_id: m.party_id, association_id: m.association_id },
      })),
      ...memberships.map((row) => ({ tbl: 'bdi_memberships' as const, op: 'put' as const, row })),
    ],
    summary: `recorded party ${input.id}: ${memberships.length} membership(s)${input.assurance ? `, assurance ${input.assurance}` : ''}${level ? `, reputation ${level}` : ''}`,
  }
}

export function putTrustService(
  { register }: Index,
  input: {
    id: string
    association: string
    classification: string
    matrix?: unknown
    owner?: string
    resourceType?: string
  },
  now: string,
  limits?: MatrixLimits,
): Plan {
  if (!register.associations.has(input.association))
    throw notFound(`association ${input.association} does not exist`)
  if (input.classification.length === 0 || input.classification.length > 100)
    throw invalid('classification: 1 to 100 characters')
  return {
    changes: [
      {
        tbl: 'bdi_services',
        op: 'put',
        row: {
          id: input.id,
          association: input.association,
          classification: input.classification,
          matrix:
            input.matrix === undefined ? null : JSON.stringify(parseMatrix(input.matrix, 'matrix', limits)),
          owner: input.owner ?? null,
          resource_type: input.resourceType ?? null,
          updated_at: now,
        },
      },
    ],
    summary: `classified data service ${input.id} as ${input.classification} in ${input.association}`,
  }
}
