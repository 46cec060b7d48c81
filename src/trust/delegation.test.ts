import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ISHARE, ishareCases, ishareJson } from '../../test/support/ishare.js'
import { answerThroughChain, type EvidenceSource } from './delegation-chain.js'
import { answerDelegation } from './delegation-evaluation.js'
import { parseEvidence, parseRequest, ShapeError } from './delegation-shapes.js'

const read = ishareJson
const cases = ishareCases

describe('the Authorization Register’s answer to a delegation mask', () => {
  it('has the register’s test cases to check against', () => {
    expect(cases.map((c) => c.mask)).toEqual([
      'case1_mask.json',
      'case2_mask1.json',
      'case2_mask2.json',
      'case3_mask.json',
    ])
  })

  it.each(cases)('answers $mask as $evidence says', ({ mask, policy, evidence }) => {
    const stored = parseEvidence(read(`cases/${policy}`))
    const answer = answerDelegation(stored, parseRequest(read(`cases/${mask}`)), stored.notBefore)
    expect({ delegationEvidence: answer.evidence }).toEqual(read(`cases/${evidence}`))
  })

  it('explains each answer: a Deny rule overriding the Permit, a policy that does not cover the request', () => {
    const policy = parseEvidence(read('cases/case2_policy.json'))
    expect(
      answerDelegation(policy, parseRequest(read('cases/case2_mask1.json')), policy.notBefore).reasons,
    ).toEqual(['a Deny rule (rule 2) overrides the Permit'])
    const three = parseEvidence(read('cases/case3_policy.json'))
    expect(
      answerDelegation(three, parseRequest(read('cases/case3_mask.json')), three.notBefore).reasons,
    ).toEqual(['the policy is for service providers EU.EORI.NL000000003 only'])
  })

  it('denies outside the validity window, and for another issuer or subject', () => {
    const policy = parseEvidence(read('cases/case1_policy.json'))
    const mask = parseRequest(read('cases/case1_mask.json'))
    const effect = (at: number, m = mask) =>
      answerDelegation(policy, m, at).evidence.policySets[0]?.policies[0]?.rules
    expect(effect(policy.notBefore)).toEqual([{ effect: 'Permit' }])
    expect(effect(policy.notOnOrAfter - 1)).toEqual([{ effect: 'Permit' }])
    expect(effect(policy.notOnOrAfter)).toEqual([{ effect: 'Deny' }])
    expect(effect(policy.notBefore - 1)).toEqual([{ effect: 'Deny' }])
    expect(answerDelegation(policy, mask, policy.notOnOrAfter).reasons).toEqual([
      `the policy expired at ${policy.notOnOrAfter}`,
    ])
    expect(effect(policy.notBefore, { ...mask, target: { accessSubject: 'EU.EORI.NL999999999' } })).toEqual([
      { effect: 'Deny' },
    ])
  })

  it('reads a register’s answer of a single Deny rule, but no policy that starts with a Deny before its Deny rules', () => {
    expect(parseEvidence(read('cases/case2_evidence1.json')).policySets[0]?.policies[0]?.rules).toEqual([
      { effect: 'Deny' },
    ])
    const policy = read('cases/case2_policy.json') as {
      delegationEvidence: { policySets: { policies: { rules: { effect: string }[] }[] }[] }
    }
    const flipped = structuredClone(policy)
    ;(flipped.delegationEvidence.policySets[0]?.policies[0]?.rules[0] as { effect: string }).effect = 'Deny'
    expect(() => parseEvidence(flipped)).toThrow(
      'delegationEvidence.policySets[0].policies[0].rules[0].effect: the first rule of a policy with Deny rules is its Permit',
    )
  })

  it('reads every seed policy of the register: its issuer, subject, and each policy’s resource and rules', () => {
    const PERMIT_DENY_DENY = ['GS1.CONTAINER: Permit Deny Deny']
    const seeds: Record<string, [string, string, string[]]> = {
      'AR.1234567890.json': ['EU.EORI.NL812972715', 'EU.EORI.NL000000001', PERMIT_DENY_DENY],
      'AR.2234567890.json': ['EU.EORI.NL820599669', 'EU.EORI.NL000000002', PERMIT_DENY_DENY],
      'AR.3234567890.json': ['EU.EORI.NL850169513', 'EU.EORI.NL000000003', PERMIT_DENY_DENY],
      'AR.4234567890.json': ['EU.EORI.NL812972715', 'EU.EORI.NL000000001', PERMIT_DENY_DENY],
      'AR.5234567890.json': ['EU.EORI.NL812972715', 'EU.EORI.NL000000002', PERMIT_DENY_DENY],
      'AR.6234567890.json': ['EU.EORI.NL820599669', 'EU.EORI.NL000000003', PERMIT_DENY_DENY],
      'AR.HAPPYFLOW1.json': ['EU.EORI.NL000000003', 'EU.EORI.NL000000001', ['GS1.CONTAINER: Permit']],
      'AR.HAPPYFLOW2.json': ['EU.EORI.NL000000003', 'EU.EORI.NL000000002', ['GS1.CONTAINER: Permit Deny']],
      'AR.HAPPYFLOW3.json': ['EU.EORI.NL000000002', 'EU.EORI.NL000000001', ['GS1.CONTAINER: Permit Deny']],
      'AR.HAPPYFLOW4.json': [
        'EU.EORI.NL000000005',
        'EU.EORI.NL000000001',
        [
          'GS1.CONTAINER: Permit Deny',
          'ORDER.DATA: Permit Deny',
          'GS1.CONTAINER: Permit Deny Deny Deny',
          'ORDER.DATA: Permit Deny',
        ],
      ],
      'AR.HAPPYFLOW5.json': ['EU.EORI.NL000000005', 'NL100000015', ['GS1.CONTAINER: Permit']],
    }
    const files = readdirSync(join(ISHARE, 'policies')).sort()
    expect(files).toEqual(Object.keys(seeds))
    for (const file of files) {
      const evidence = parseEvidence(read(`policies/${file}`))
      expect(evidence.policySets.length).toBeGreaterThan(0)
      const policies = evidence.policySets.flatMap((set) =>
        set.policies.map((p) => `${p.target.resource.type}: ${p.rules.map((r) => r.effect).join(' ')}`),
      )
      expect([evidence.policyIssuer, evidence.target.accessSubject, policies], file).toEqual(seeds[file])
    }
  })

  it('names the field of a malformed document', () => {
    const policy = read('cases/case2_policy.json') as {
      delegationEvidence: { policySets: { policies: { rules: unknown[] }[] }[] }
    }
    const broken = structuredClone(policy)
    ;(broken.delegationEvidence.policySets[0]?.policies[0]?.rules as { effect: string }[])[1] = {
      effect: 'Maybe',
    }
    expect(() => parseEvidence(broken)).toThrow(
      new ShapeError(
        'delegationEvidence.policySets[0].policies[0].rules[1].effect',
        'must be "Permit" or "Deny"',
      ),
    )
    expect(() =>
      parseRequest({ delegationRequest: { policyIssuer: 'x', target: {}, policySets: [] } }),
    ).toThrow('delegationRequest.target.accessSubject: must be a non-empty string')
  })
})

describe('delegation through a chain', () => {
  const W13 = 'EU.EORI.NL000000003'
  const ABC = 'EU.EORI.NL000000001'
  const SUB = 'EU.EORI.NL000000008'
  const DRIVER = 'EU.EORI.NL000000009'
  const base = parseEvidence(read('cases/case2_policy.json'))
  /** case 2's policy (ETA of every container but 120-123), from one party to another, with a depth. */
  const link = (issuer: string, subject: string, depth: number) => ({
    ...base,
    policyIssuer: issuer,
    target: { accessSubject: subject },
    policySets: base.policySets.map((s) => ({ ...s, maxDelegationDepth: depth })),
  })
  const source = (...links: ReturnType<typeof link>[]): EvidenceSource => ({
    find: (issuer, subject) =>
      links.find((l) => l.policyIssuer === issuer && l.target.accessSubject === subject),
    issuedBy: (issuer) => links.filter((l) => l.policyIssuer === issuer),
  })
  const mask = (container: string) => {
    const request = parseRequest(read('cases/case2_mask1.json'))
    const policy = request.policySets[0]?.policies[0] as { target: { resource: { identifiers?: string[] } } }
    policy.target.resource.identifiers = [container]
    return { ...request, target: { accessSubject: DRIVER } }
  }
  const at = base.notBefore
  const effect = (answer: ReturnType<typeof answerThroughChain>) =>
    answer?.evidence.policySets[0]?.policies[0]?.rules[0]?.effect

  it('permits what the data owner delegated on, within maxDelegationDepth, as the owner’s evidence for the subject', () => {
    const answer = answerThroughChain(
      source(link(W13, ABC, 1), link(ABC, DRIVER, 5)),
      mask('180621.ABC125'),
      at,
    )
    expect(effect(answer)).toBe('Permit')
    expect(answer?.evidence).toMatchObject({ policyIssuer: W13, target: { accessSubject: DRIVER } })
    // Nothing is left to delegate: the first link allowed one step, and the driver's is it.
    expect(answer?.evidence.policySets[0]?.maxDelegationDepth).toBe(0)
  })

  it('denies when a link may not be delegated further, naming it', () => {
    const answer = answerThroughChain(
      source(link(W13, ABC, 0), link(ABC, DRIVER, 5)),
      mask('180621.ABC125'),
      at,
    )
    expect(effect(answer)).toBe('Deny')
    expect(answer?.reasons).toEqual([`${ABC} may not delegate further: maxDelegationDepth is 0`])
  })

  it('counts the depth along the whole chain', () => {
    const chain = (depth: number) => source(link(W13, ABC, depth), link(ABC, SUB, 5), link(SUB, DRIVER, 5))
    expect(effect(answerThroughChain(chain(1), mask('180621.ABC125'), at))).toBe('Deny')
    expect(effect(answerThroughChain(chain(2), mask('180621.ABC125'), at))).toBe('Permit')
  })

  it('keeps a Deny rule of any link, and has no answer without a policy or a chain', () => {
    const answer = answerThroughChain(
      source(link(W13, ABC, 3), link(ABC, DRIVER, 5)),
      mask('180621.ABC123'),
      at,
    )
    expect(effect(answer)).toBe('Deny')
    expect(answerThroughChain(source(link(W13, SUB, 3)), mask('180621.ABC125'), at)).toBeUndefined()
  })
})
