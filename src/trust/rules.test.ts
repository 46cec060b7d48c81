import { describe, expect, it } from 'vitest'
import { answerDelegation } from './delegation-evaluation.js'
import type { DelegationEvidence } from './delegation-shapes.js'
import {
  type Association,
  type DataService,
  decideTrust,
  delegationAsk,
  judgeEvidence,
  type Matrix,
  type PartyFacts,
} from './rules.js'

const NOW = 1_800_000_000
const network = (extra: Partial<Record<string, Partial<Association>>> = {}) =>
  new Map<string, Association>(
    [
      { id: 'bdi', ownLogicAllowed: false },
      { id: 'dutch-logistics', parent: 'bdi', ownLogicAllowed: false },
      { id: 'port-of-rotterdam', parent: 'dutch-logistics', ownLogicAllowed: false },
    ].map((a) => [a.id, { ...a, ...extra[a.id] }]),
  )
// The seed's examples of classification.
const services: Record<string, DataService> = {
  location: { id: 'container-location', association: 'port-of-rotterdam', classification: 'low' },
  contents: { id: 'container-contents', association: 'port-of-rotterdam', classification: 'medium' },
  shipper: { id: 'shipper-personal-data', association: 'port-of-rotterdam', classification: 'high' },
}
const party = (
  id: string,
  association: string,
  reputation?: 'low' | 'medium' | 'high',
  membership: Partial<PartyFacts['memberships'][number]> = {},
): PartyFacts => ({
  id,
  memberships: [{ association, status: 'active', ...membership }],
  ...(reputation ? { reputation: { level: reputation, source: 'bdi-reputation', at: NOW - 3600 } } : {}),
})
const decide = (
  p: PartyFacts | undefined,
  service: DataService,
  authorization?: boolean,
  associations = network(),
) =>
  decideTrust({
    associations,
    party: p,
    service,
    ...(authorization === undefined
      ? {}
      : {
          authorization: {
            permitted: authorization,
            reason: authorization ? 'permitted by EU.EORI.OWNER' : 'a Deny rule overrides',
          },
        }),
    now: NOW,
    revision: 1,
  })
const outcome = (p: PartyFacts, authorization?: boolean) =>
  Object.values(services).map((s) => decide(p, s, authorization).allowed)

describe('the BDI trust decision matrix', () => {
  it('lets a member of the port with a high reputation see everything, personal data only with an authorization', () => {
    const carrier = party('carrier', 'port-of-rotterdam', 'high')
    expect(outcome(carrier)).toEqual([true, true, false])
    expect(outcome(carrier, true)).toEqual([true, true, true])
    expect(outcome(carrier, false)).toEqual([true, true, false])
  })

  it('trusts a party through a parent association at medium: location and contents, not personal data', () => {
    const forwarder = party('forwarder', 'dutch-logistics', 'medium')
    expect(outcome(forwarder, true)).toEqual([true, true, false])
    const refused = decide(forwarder, services.shipper as DataService, true)
    expect(refused.findings).toEqual([
      {
        input: 'association',
        required: 'high',
        found: 'medium (member of dutch-logistics, a parent association)',
        satisfied: false,
      },
      {
        input: 'reputation',
        required: 'high',
        found: 'medium (from bdi-reputation at 2027-01-15T07:00:00.000Z)',
        satisfied: false,
      },
      {
        input: 'authorization',
        required: 'a granular authorization (delegation evidence) permitting it',
        found: 'permitted by EU.EORI.OWNER',
        satisfied: true,
      },
    ])
    expect(refused.reason).toMatch(
      /^forwarder does not meet what high data requires under the matrix of the BDI default: association high required/,
    )
  })

  it('gives only low association trust through the root network, which is not enough even for the location', () => {
    const newcomer = party('newcomer', 'bdi', 'high')
    expect(outcome(newcomer, true)).toEqual([false, false, false])
    expect(decide(newcomer, services.location as DataService).findings[0]?.found).toBe(
      'low (member of bdi, a parent association)',
    )
  })

  it('fails each column on its own: reputation for the contents, an expired or suspended membership for all', () => {
    expect(outcome(party('quiet', 'port-of-rotterdam'))).toEqual([true, false, false])
    expect(outcome(party('lapsed', 'port-of-rotterdam', 'high', { validUntil: NOW }), true)).toEqual([
      false,
      false,
      false,
    ])
    expect(outcome(party('suspended', 'port-of-rotterdam', 'high', { status: 'suspended' }), true)).toEqual([
      false,
      false,
      false,
    ])
    expect(outcome(party('early', 'port-of-rotterdam', 'high', { validFrom: NOW + 1 }), true)).toEqual([
      false,
      false,
      false,
    ])
    expect(decide(undefined, services.location as DataService).reason).toBe(
      'the party is not known to this register',
    )
  })

  it('follows an association’s own matrix, with OR rules, and a service’s only where the association allows it', () => {
    const relaxed: Matrix = {
      medium: { any: [{ association: 'medium' }, { reputation: 'medium' }] },
      low: { all: [] },
      high: { all: [{ authorization: true }, { assurance: 'high' }] },
    }
    const quiet = party('quiet', 'dutch-logistics')
    expect(decide(quiet, services.contents as DataService).allowed).toBe(false)
    const withMatrix = network({ 'dutch-logistics': { matrix: relaxed } })
    const decision = decide(quiet, services.contents as DataService, undefined, withMatrix)
    expect(decision).toMatchObject({ allowed: true, matrixOf: 'dutch-logistics' })
    const own: DataService = {
      ...(services.contents as DataService),
      matrix: { medium: { all: [{ assurance: 'high' }] } },
    }
    expect(decide(quiet, own, undefined, withMatrix).matrixOf).toBe('dutch-logistics')
    const allowing = network({
      'dutch-logistics': { matrix: relaxed },
      'port-of-rotterdam': { ownLogicAllowed: true },
    })
    expect(decide(quiet, own, undefined, allowing)).toMatchObject({
      allowed: false,
      matrixOf: 'container-contents',
    })
    expect(decide({ ...quiet, assurance: 'high' }, own, undefined, allowing).allowed).toBe(true)
  })

  it('refuses a classification the matrix does not know, saying which it knows', () => {
    const secret: DataService = { id: 'x', association: 'port-of-rotterdam', classification: 'secret' }
    expect(decide(party('p', 'port-of-rotterdam', 'high'), secret).reason).toBe(
      'x is classified secret, which the matrix of the BDI default does not know (it knows low, medium, high)',
    )
  })
})

describe('judging the delegation evidence of a trust question', () => {
  const OWNER = 'EU.EORI.OWNER'
  const CARRIER = 'EU.EORI.CARRIER'
  const evidence = (attributes: string[], serviceProviders?: string[]): DelegationEvidence => ({
    notBefore: NOW - 60,
    notOnOrAfter: NOW + 3600,
    policyIssuer: OWNER,
    target: { accessSubject: CARRIER },
    policySets: [
      {
        policies: [
          {
            target: {
              resource: { type: 'CONTAINER.DATA', identifiers: ['*'], attributes },
              actions: ['ISHARE.READ'],
              ...(serviceProviders ? { environment: { serviceProviders } } : {}),
            },
            rules: [{ effect: 'Permit' }],
          },
        ],
      },
    ],
  })

  it('accepts evidence restricted to named service providers when one of them asks, and only then', () => {
    const found = {
      from: 'request',
      evidence: { ok: true, value: evidence(['*'], ['EU.EORI.SP3']) },
    } as const
    const asked = (serviceProvider: string) =>
      judgeEvidence(found, { party: CARRIER, serviceProvider }, 'CONTAINER.DATA', NOW)
    expect(asked('EU.EORI.SP3')).toEqual({
      permitted: true,
      reason: `signed evidence from ${OWNER}: permitted`,
    })
    expect(asked('EU.EORI.SP4')).toEqual({
      permitted: false,
      reason: `signed evidence from ${OWNER}: the policy is for service providers EU.EORI.SP3 only`,
    })
  })

  it('asks a remote register a mask that names attributes, and accepts its answer for a question naming none', () => {
    const question = { party: CARRIER, serviceProvider: 'EU.EORI.SP3' }
    const mask = delegationAsk(question, OWNER, 'CONTAINER.DATA')
    // The remote register answers with the mask's own targets, each under its single rule.
    const remote = answerDelegation(evidence(['*']), mask, NOW).evidence
    expect(
      judgeEvidence(
        { from: 'remote', owner: OWNER, evidence: { ok: true, value: remote } },
        question,
        'CONTAINER.DATA',
        NOW,
      ),
    ).toEqual({ permitted: true, reason: `the remote register’s evidence from ${OWNER}: permitted` })
    // iSHARE's mask schema requires attributes: a question naming none asks for all of them.
    expect(mask.policySets[0]?.policies[0]?.target.resource.attributes).toEqual(['*'])
  })
})
