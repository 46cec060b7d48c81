import { answerThroughChain } from '../../../src/trust/delegation-chain.js'
import { parseEvidence, parseRequest } from '../../../src/trust/delegation-shapes.js'
import { RegisterModel } from '../../../src/trust/register-model.js'
import {
  type Association,
  type DataService,
  decideTrust,
  type Matrix,
  type PartyFacts,
} from '../../../src/trust/rules.js'
import { applyAll, type DomainAdapter, field, optional, type Question, strings } from './adapter.js'

/**
 * BDI trust decisions and iSHARE delegation evidence. A model:
 *   now: epoch seconds                 revision: the register's revision decisions report
 *   associations: {id: {parent, matrix, own_logic_allowed}}
 *   services: {id: {association, classification, matrix}}
 *   parties: {id: {memberships: [{association, status, valid_from, valid_until}], assurance,
 *              reputation: level or {level, source, at}, reputation_note}}
 *   policies: [delegationEvidence, ...]   stored in the Authorization Register as the register stores them
 * A case's `given` merges fields into associations, services and parties by id.
 * Questions: {party, service, authorization: true | false | {permitted, reason}} (decideTrust), or
 * {issuer, subject, type, identifiers, attributes, actions, service_providers, licences, at} (the register's
 * answer, directly or through a chain of delegations).
 */
interface TrustState {
  now: number
  revision: number
  associations: Record<string, Question>
  services: Record<string, Question>
  parties: Record<string, Question>
  register: RegisterModel
}

const section = (of: Question, name: string) =>
  structuredClone((optional<Question>(of, name, 'object') ?? {}) as Record<string, Question>)

const association = (id: string, a: Question): Association => ({
  id,
  ...(a.parent ? { parent: field<string>(a, 'parent', 'string') } : {}),
  ...(a.matrix ? { matrix: field<Matrix>(a, 'matrix', 'object') } : {}),
  ownLogicAllowed: a.own_logic_allowed === true,
})

function party(state: TrustState, id: string): PartyFacts | undefined {
  const p = state.parties[id]
  if (!p) return undefined
  const memberships = (Array.isArray(p.memberships) ? p.memberships : []) as Question[]
  const reputation = p.reputation
  return {
    id,
    memberships: memberships.map((m) => ({
      association: field<string>(m, 'association', 'string'),
      status: (optional<string>(m, 'status', 'string') ??
        'active') as PartyFacts['memberships'][number]['status'],
      ...(m.valid_from === undefined ? {} : { validFrom: field<number>(m, 'valid_from', 'number') }),
      ...(m.valid_until === undefined ? {} : { validUntil: field<number>(m, 'valid_until', 'number') }),
    })),
    ...(p.assurance ? { assurance: field<PartyFacts['assurance']>(p, 'assurance', 'string') } : {}),
    ...(typeof reputation === 'string'
      ? { reputation: { level: reputation as 'low', source: 'bdi-reputation', at: state.now - 3600 } }
      : reputation
        ? { reputation: reputation as NonNullable<PartyFacts['reputation']> }
        : {}),
    ...(p.reputation_note ? { reputationNote: field<string>(p, 'reputation_note', 'string') } : {}),
  }
}

function decide(state: TrustState, q: Question) {
  const id = field<string>(q, 'service', 'string')
  const s = state.services[id]
  if (!s) throw new Error(`service ${id} is not in the table's model`)
  const service: DataService = {
    id,
    association: field(s, 'association', 'string'),
    classification: field(s, 'classification', 'string'),
    ...(s.matrix ? { matrix: field<Matrix>(s, 'matrix', 'object') } : {}),
  }
  const given = q.authorization
  const authorization =
    given === undefined
      ? undefined
      : typeof given === 'boolean'
        ? { permitted: given, reason: given ? 'permitted by EU.EORI.OWNER' : 'a Deny rule overrides' }
        : {
            permitted: field<boolean>(given as Question, 'permitted', 'boolean'),
            reason: field<string>(given as Question, 'reason', 'string'),
          }
  return decideTrust({
    associations: new Map(Object.entries(state.associations).map(([a, of]) => [a, association(a, of)])),
    party: party(state, field(q, 'party', 'string')),
    service,
    ...(authorization ? { authorization } : {}),
    now: optional<number>(q, 'at', 'number') ?? state.now,
    revision: state.revision,
  })
}

/** The register's answer to a one-policy request, as `POST /delegation` asks it. */
function delegation(state: TrustState, q: Question) {
  const licences = strings(q, 'licences')
  const providers = strings(q, 'service_providers')
  const request = parseRequest({
    delegationRequest: {
      policyIssuer: field(q, 'issuer', 'string'),
      target: { accessSubject: field(q, 'subject', 'string') },
      policySets: [
        {
          ...(licences.length > 0 ? { target: { environment: { licenses: licences } } } : {}),
          policies: [
            {
              target: {
                resource: {
                  type: field(q, 'type', 'string'),
                  identifiers: q.identifiers === undefined ? ['*'] : strings(q, 'identifiers'),
                  attributes: q.attributes === undefined ? ['*'] : strings(q, 'attributes'),
                },
                actions: strings(q, 'actions'),
                ...(providers.length > 0 ? { environment: { serviceProviders: providers } } : {}),
              },
              rules: [{ effect: 'Permit' }],
            },
          ],
        },
      ],
    },
  })
  const answer = answerThroughChain(
    state.register.evidence,
    request,
    optional<number>(q, 'at', 'number') ?? state.now,
  )
  if (!answer) return { allowed: false, reason: 'no delegation evidence' }
  return {
    allowed: answer.reasons.every((r) => r === 'permitted'),
    reason: answer.reasons.join('; '),
    evidence: answer.evidence,
  }
}

export const trust: DomainAdapter<TrustState> = {
  build(model) {
    const m = (model ?? {}) as Question
    const policies = (Array.isArray(m.policies) ? m.policies : []).map((json) =>
      parseEvidence({ delegationEvidence: json }),
    )
    // Stored as the register stores evidence it was given.
    const register = applyAll(
      new RegisterModel(),
      policies.map((e) => ({
        tbl: 'ishare_policies',
        op: 'put',
        row: {
          policy_issuer: e.policyIssuer,
          access_subject: e.target.accessSubject,
          evidence: JSON.stringify(e),
          updated_at: '2026-11-23T10:00:00.000Z',
        },
      })),
    )
    return {
      now: field(m, 'now', 'number'),
      revision: optional<number>(m, 'revision', 'number') ?? 1,
      associations: section(m, 'associations'),
      services: section(m, 'services'),
      parties: section(m, 'parties'),
      register,
    }
  },
  given(state, fragment, op) {
    if (op === 'delete') throw new Error('trust tables change their model with given, not remove')
    const of = (fragment ?? {}) as Question
    for (const name of ['associations', 'services', 'parties'] as const)
      for (const [id, fields] of Object.entries(section(of, name)))
        state[name][id] = { ...state[name][id], ...fields }
  },
  ask: (state, q) => (q.party !== undefined ? decide(state, q) : delegation(state, q)),
  revision: (state) => state.revision,
}
