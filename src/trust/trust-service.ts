import { isCustodianError, notFound } from '../errors.js'
import { started } from '../kernel/metrics.js'
import type { Node } from '../kernel/node.js'
import type { ChangeResult } from '../kernel/write-plan.js'
import { outboundClient } from '../net/guarded-fetch.js'
import * as plans from './changes.js'
import { answerThroughChain } from './delegation-chain.js'
import type { DelegationService } from './delegation-service.js'
import { HttpSource } from './information-source.js'
import {
  ASSURANCE,
  type Assurance,
  decideTrust,
  delegationAsk,
  type EvidenceQuestion,
  type FoundEvidence,
  type Gathered,
  judgeEvidence,
  LEVELS,
  type Level,
  type Matrix,
  type Membership,
  type PartyFacts,
  type TrustDecision,
} from './rules.js'

export interface TrustQuestion extends EvidenceQuestion {
  service: string
  /** Signed delegation evidence the request carried (pattern 2). */
  evidence?: string
}

/**
 * BDI trust decisions at the edge: the inputs (associations, parties and their memberships, assurance and
 * reputation, classified data services) kept in the store, and the one call that decides and says why.
 */
type Reputation = { level: Level; source: string; at: number }

/** A reputation source's answer: `{level}` or `{score}` (0-100), with its `source` and `at` if it says. */
function readReputation(json: unknown, fallbackSource: string, now: number): Reputation {
  const r = (json ?? {}) as { level?: unknown; score?: unknown; source?: unknown; at?: unknown }
  const level = LEVELS.includes(r.level as Level)
    ? (r.level as Level)
    : typeof r.score === 'number' && r.score >= 0 && r.score <= 100
      ? plans.levelOfScore(r.score)
      : undefined
  if (!level) throw new Error('expected {"level": "low|medium|high"} or {"score": 0-100}')
  return {
    level,
    source: typeof r.source === 'string' ? r.source : fallbackSource,
    at: typeof r.at === 'number' ? r.at : Math.floor(now / 1000),
  }
}

/** A party source's answer: the party's memberships and, if it says, its level of assurance. */
function readPartyFacts(json: unknown): Pick<PartyFacts, 'memberships' | 'assurance'> {
  const p = (json ?? {}) as { memberships?: unknown; assurance?: unknown }
  if (!Array.isArray(p.memberships)) throw new Error('expected {"memberships": [...]}')
  const memberships = p.memberships.map((m: unknown, i) => {
    const { association, status = 'active', validFrom, validUntil } = (m ?? {}) as Record<string, unknown>
    if (typeof association !== 'string') throw new Error(`memberships[${i}].association is missing`)
    if (status !== 'active' && status !== 'suspended' && status !== 'revoked')
      throw new Error(`memberships[${i}].status must be active, suspended or revoked`)
    return {
      association,
      status,
      ...(typeof validFrom === 'number' ? { validFrom } : {}),
      ...(typeof validUntil === 'number' ? { validUntil } : {}),
    } as Membership
  })
  if (p.assurance !== undefined && !ASSURANCE.includes(p.assurance as Assurance))
    throw new Error(`assurance must be one of ${ASSURANCE.join(', ')}`)
  return { memberships, ...(p.assurance ? { assurance: p.assurance as Assurance } : {}) }
}

export class TrustService {
  readonly #custodian: Node
  readonly #delegation: DelegationService
  readonly #reputation: HttpSource<Reputation> | undefined
  readonly #parties: HttpSource<Pick<PartyFacts, 'memberships' | 'assurance'>> | undefined

  constructor(custodian: Node, delegation: DelegationService) {
    this.#custodian = custodian
    this.#delegation = delegation
    const { reputationSource, partySource, sourceTimeoutMs, sourceCacheSeconds } = custodian.config
    const { partySourceId, reputationSourceId } = custodian.config
    // A source with a party id is an iSHARE party: asked with a token got with this server's client assertion.
    const options = (url: string, partyId: string) => ({
      timeoutMs: sourceTimeoutMs,
      cacheMs: sourceCacheSeconds * 1000,
      now: () => custodian.now(),
      client: outboundClient(custodian),
      ...(partyId
        ? {
            headers: async () => ({
              authorization: `Bearer ${await delegation.client.accessToken(new URL(url).origin, partyId)}`,
            }),
          }
        : {}),
    })
    this.#parties = partySource
      ? new HttpSource('the party source', partySource, readPartyFacts, options(partySource, partySourceId))
      : undefined
    this.#reputation = reputationSource
      ? new HttpSource(
          'the reputation source',
          reputationSource,
          (json: unknown) => readReputation(json, new URL(reputationSource).host, custodian.now()),
          options(reputationSource, reputationSourceId),
        )
      : undefined
  }

  /**
   * What is known of the party: its memberships and assurance from the party source, asked now (cached),
   * else as recorded; its reputation likewise. Undefined when neither knows it.
   */
  async #partyFacts(id: string): Promise<PartyFacts | undefined> {
    const model = this.#custodian.register
    const row = model.parties.get(id)
    const recorded = row && {
      memberships: model.network.memberships.get(id) ?? [],
      ...(row.assurance ? { assurance: row.assurance as Assurance } : {}),
    }
    const asked = this.#parties ? await this.#parties.get(id) : undefined
    const facts = asked?.ok ? asked.value : recorded
    if (!facts) return undefined
    return { id, ...facts, ...(await this.#reputationOf(id, row?.reputation ?? null)) }
  }

  /** The party's reputation: the source's, asked now (cached), else what was recorded, and why. */
  async #reputationOf(
    partyId: string,
    recorded: string | null,
  ): Promise<{ reputation?: Reputation; reputationNote?: string }> {
    const stored = recorded ? (JSON.parse(recorded) as Reputation) : undefined
    if (!this.#reputation) return stored ? { reputation: stored } : {}
    const answer = await this.#reputation.get(partyId)
    if (answer.ok) return { reputation: answer.value }
    return stored ? { reputation: stored, reputationNote: answer.reason } : { reputationNote: answer.reason }
  }

  putAssociation(
    token: string | undefined,
    input: Omit<Parameters<typeof plans.putAssociation>[1], 'now'>,
  ): Promise<ChangeResult> {
    return this.#custodian.change(token, 'trust.association', input.id, (world, now) =>
      plans.putAssociation(world, { ...input, now, limits: plans.matrixLimits(this.#custodian.config) }),
    )
  }

  putParty(token: string | undefined, input: plans.PartyInput): Promise<ChangeResult> {
    return this.#custodian.change(token, 'trust.party', input.id, (world, now) =>
      plans.putParty(world, input, now),
    )
  }

  putService(
    token: string | undefined,
    input: Parameters<typeof plans.putTrustService>[1],
  ): Promise<ChangeResult> {
    return this.#custodian.change(token, 'trust.service', input.id, (world, now) =>
      plans.putTrustService(world, input, now, plans.matrixLimits(this.#custodian.config)),
    )
  }

  async decide(token: string | undefined, question: TrustQuestion): Promise<TrustDecision> {
    const custodian = this.#custodian
    const action = 'trust.decide'
    const resource = `${question.party} -> ${question.service}`
    await this.#delegation.parties.checkToken(token, action, resource)
    const asker = custodian.identify(token, action, resource)
    const since = started()
    const model = custodian.register
    const row = model.services.get(question.service)
    if (!row) throw notFound(`data service ${question.service} is not classified here`)
    const { associations } = model.network
    const party = await this.#partyFacts(question.party)
    const now = Math.floor(custodian.now() / 1000)
    const type = row.resource_type ?? row.id
    // The asker is the service provider the access would be through, whatever the question says.
    const asked = { ...question, serviceProvider: asker }
    const found = await this.#gatherEvidence(asker, asked, row.owner, type, now)
    const authorization = found && judgeEvidence(found, asked, type, now)
    const decision = decideTrust({
      associations,
      party,
      service: {
        id: row.id,
        association: row.association,
        classification: row.classification,
        ...(row.matrix ? { matrix: JSON.parse(row.matrix) as Matrix } : {}),
      },
      ...(authorization ? { authorization } : {}),
      now,
      revision: model.revision,
    })
    custodian.audit({
      actor: asker,
      action,
      resource,
      outcome: decision.allowed ? 'allowed' : 'denied',
      reason: decision.reason,
    })
    custodian.metrics.decided('trust', decision.allowed ? 'allowed' : 'denied', since)
    return decision
  }

  /**
   * The delegation evidence of a question, gathered (the I/O; judged by judgeEvidence): the signed evidence
   * the request carried, verified for the asker; else the data owner's evidence in this register; else the
   * remote register's. Undefined when there is none to look for: no evidence carried, no data owner.
   */
  async #gatherEvidence(
    asker: string,
    q: TrustQuestion,
    owner: string | null,
    type: string,
    now: number,
  ): Promise<FoundEvidence | undefined> {
    if (q.evidence)
      return {
        from: 'request',
        evidence: await gathered(this.#delegation.verify(q.evidence, asker, owner ? [owner] : [])),
      }
    if (!owner) return undefined
    const ask = delegationAsk(q, owner, type)
    const answer = answerThroughChain(this.#custodian.register.evidence, ask, now)
    if (answer) return { from: 'register', answer }
    if (!this.#custodian.config.remoteRegister) return { from: 'nowhere', owner }
    return { from: 'remote', owner, evidence: await gathered(this.#delegation.askRemote(ask)) }
  }
}

/** What a source gave, or the reason its CustodianError gave for not giving it; other errors are bugs. */
async function gathered<T>(promise: Promise<T>): Promise<Gathered<T>> {
  try {
    return { ok: true, value: await promise }
  } catch (error) {
    if (isCustodianError(error)) return { ok: false, reason: error.message }
    throw error
  }
}
