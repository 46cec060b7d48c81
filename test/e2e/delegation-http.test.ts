import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentPolicy, ishareJson } from '../support/ishare.js'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const json = (path: string) => ishareJson(path) as Record<string, unknown>
const OWNER = 'EU.EORI.NL000000003' // Warehouse 13, the data owner
const SUBJECT = 'EU.EORI.NL000000001' // ABC Trucking
const PROVIDER = 'EU.EORI.NL000000004' // a service provider asking the register

/** A case policy of the register made current: same rules, valid from a minute ago for a day. */
const current = (path: string) => currentPolicy(path.replace(/^cases\//, ''))

describe('the iSHARE Authorization Register over HTTP', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  const tokens: Record<string, string> = {}

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target, { CUSTODIAN_REGISTER_ID: 'EU.EORI.NLREGISTER' }))
    for (const id of [OWNER, SUBJECT, PROVIDER]) tokens[id] = await userWithSession(server.url, admin, id)
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  it('lets only the policy issuer store its policy', async () => {
    const policy = current('cases/case2_policy.json')
    const stranger = await call(server.url, 'PUT', '/v1/delegation-policies', {
      token: tokens[SUBJECT],
      body: policy,
    })
    expect(stranger.status).toBe(403)
    expect(stranger.body.detail).toBe(
      `${SUBJECT} may not write the policies of ${OWNER}: only the policy issuer may, or a delegate holding manage_delegations on delegations:${OWNER}`,
    )
    const own = await call(server.url, 'PUT', '/v1/delegation-policies', {
      token: tokens[OWNER],
      body: policy,
    })
    expect(own.status).toBe(200)
    const bad = await call(server.url, 'PUT', '/v1/delegation-policies', {
      token: tokens[OWNER],
      body: { delegationEvidence: { ...policy.delegationEvidence, policySets: [] } },
    })
    expect(bad.status).toBe(400)
    expect(bad.body.detail).toBe('delegationEvidence.policySets: must be a non-empty array')
  })

  it('answers a delegation request with signed evidence, in both spellings, for the asker, for 30 seconds', async () => {
    const response = await call(server.url, 'POST', '/delegation', {
      token: tokens[PROVIDER],
      body: { ...json('cases/case2_mask2.json'), previous_steps: [] },
    })
    expect(response.status).toBe(200)
    const { delegation_token, delegationToken } = response.body as Record<string, string>
    expect(delegationToken).toBe(delegation_token)
    const header = decodeProtectedHeader(delegation_token as string)
    expect(header.alg).toBe('RS256')
    expect(header.x5c?.length).toBe(2)
    const claims = decodeJwt(delegation_token as string) as Record<string, unknown> & {
      delegationEvidence: { policySets: { policies: { rules: unknown[] }[] }[] }
    }
    expect(claims).toMatchObject({ iss: 'EU.EORI.NLREGISTER', aud: PROVIDER })
    expect((claims.exp as number) - (claims.iat as number)).toBe(30)
    expect(claims.delegationEvidence.policySets[0]?.policies[0]?.rules).toEqual([{ effect: 'Permit' }])
    const denied = await call(server.url, 'POST', '/delegation', {
      token: tokens[PROVIDER],
      body: json('cases/case2_mask1.json'),
    })
    expect(decodeJwt(denied.body.delegationToken as string)).toMatchObject({
      delegationEvidence: { policySets: [{ policies: [{ rules: [{ effect: 'Deny' }] }] }] },
    })
  })

  it('verifies evidence for the service provider it was signed for, and refuses a tampered one', async () => {
    const answer = await call(server.url, 'POST', '/delegation', {
      token: tokens[PROVIDER],
      body: json('cases/case2_mask2.json'),
    })
    const jwt = answer.body.delegationToken as string
    const verified = await call(server.url, 'POST', '/v1/delegation-evidence/verifications', {
      token: tokens[PROVIDER],
      body: { token: jwt },
    })
    expect(verified.status).toBe(200)
    expect(verified.body.delegationEvidence).toMatchObject({
      policyIssuer: OWNER,
      target: { accessSubject: SUBJECT },
    })
    const someoneElse = await call(server.url, 'POST', '/v1/delegation-evidence/verifications', {
      token: tokens[SUBJECT],
      body: { token: jwt },
    })
    expect(someoneElse.status).toBe(400)
    expect(someoneElse.body.detail).toMatch(
      /^delegation evidence refused: the JWT is refused: unexpected "aud" claim value/,
    )
    const [h, p, s] = jwt.split('.')
    const tampered = await call(server.url, 'POST', '/v1/delegation-evidence/verifications', {
      token: tokens[PROVIDER],
      body: { token: `${h}.${p?.slice(0, -4)}AAAA.${s}` },
    })
    expect(tampered.status).toBe(400)
    const chain = await fetch(`${server.url}/delegation/certificates`)
    expect((await chain.text()).match(/BEGIN CERTIFICATE/g)).toHaveLength(2)
  })

  it('answers through a chain: the owner delegated to ABC Trucking, which delegated on to its driver', async () => {
    const DRIVER = 'EU.EORI.NL000000009'
    const onward = current('cases/case1_policy.json') as { delegationEvidence: Record<string, unknown> }
    onward.delegationEvidence.policyIssuer = SUBJECT
    onward.delegationEvidence.target = { accessSubject: DRIVER }
    expect(
      (await call(server.url, 'PUT', '/v1/delegation-policies', { token: tokens[SUBJECT], body: onward }))
        .status,
    ).toBe(200)
    const mask = json('cases/case2_mask2.json') as {
      delegationRequest: { target: { accessSubject: string } }
    }
    mask.delegationRequest.target.accessSubject = DRIVER
    const answer = await call(server.url, 'POST', '/delegation', { token: tokens[PROVIDER], body: mask })
    expect(decodeJwt(answer.body.delegationToken as string)).toMatchObject({
      delegationEvidence: {
        policyIssuer: OWNER,
        target: { accessSubject: DRIVER },
        policySets: [{ maxDelegationDepth: 4, policies: [{ rules: [{ effect: 'Permit' }] }] }],
      },
    })
  })

  it('says when the register holds nothing for the request, and audits every answer', async () => {
    const mask = json('cases/case3_mask.json')
    const none = await call(server.url, 'POST', '/delegation', { token: tokens[PROVIDER], body: mask })
    expect(none.status).toBe(404)
    expect(none.body.detail).toBe(`EU.EORI.NL000000005 has no delegation evidence for ${SUBJECT}`)
    const audit = await call(server.url, 'GET', '/v1/audit?limit=1000', { token: admin })
    const answers = (
      audit.body.items as { action: string; actor: string; outcome: string; reason: string }[]
    ).filter((i) => i.action === 'delegation.request')
    expect(answers.map((a) => [a.actor, a.outcome])).toEqual([
      [PROVIDER, 'allowed'],
      [PROVIDER, 'denied'],
      [PROVIDER, 'allowed'],
      [PROVIDER, 'allowed'],
      [PROVIDER, 'NotFound'],
    ])
    expect(answers[1]?.reason).toBe('a Deny rule (rule 2) overrides the Permit')
  })
})

/** A register of its own for a describe block: its URL, its administrator, and a service provider's token. */
function freshRegister() {
  const temp = tempSqlite()
  let server: RunningServer | undefined
  const state = {
    get server(): RunningServer {
      if (!server) throw new Error('the register starts in beforeAll: use it inside a test')
      return server
    },
    admin: '',
    provider: '',
  }
  beforeAll(async () => {
    ;({ server, admin: state.admin } = await startWithAdmin(temp.target))
    state.provider = await userWithSession(server.url, state.admin, PROVIDER)
  })
  afterAll(async () => {
    await server?.stop()
    temp.remove()
  })
  return state
}

describe('POST /delegation against every case of the iSHARE register', () => {
  const register = freshRegister()

  const cases = [
    ['case1_policy.json', 'case1_mask.json', 'case1_evidence.json'],
    ['case2_policy.json', 'case2_mask1.json', 'case2_evidence1.json'],
    ['case2_policy.json', 'case2_mask2.json', 'case2_evidence2.json'],
    ['case3_policy.json', 'case3_mask.json', 'case3_evidence.json'],
  ] as const

  it.each(
    cases,
  )('stores %s and answers %s as %s says (its window moved to now)', async (policy, mask, expected) => {
    // The cases' policies ran out in 2018-2019: both the policy and the expected evidence move by one offset.
    const stored = json(`cases/${policy}`) as {
      delegationEvidence: { notBefore: number; notOnOrAfter: number }
    }
    const shift = Math.floor(Date.now() / 1000) - 60 - stored.delegationEvidence.notBefore
    const moved = <T extends { delegationEvidence: { notBefore: number; notOnOrAfter: number } }>(
      doc: T,
    ): T => ({
      ...doc,
      delegationEvidence: {
        ...doc.delegationEvidence,
        notBefore: doc.delegationEvidence.notBefore + shift,
        notOnOrAfter: doc.delegationEvidence.notOnOrAfter + shift,
      },
    })
    const put = await call(register.server.url, 'PUT', '/v1/delegation-policies', {
      token: register.admin,
      body: moved(stored),
    })
    expect(put.status).toBe(200)
    const answer = await call(register.server.url, 'POST', '/delegation', {
      token: register.provider,
      body: json(`cases/${mask}`),
    })
    expect(answer.status).toBe(200)
    const { delegationEvidence } = decodeJwt(answer.body.delegation_token as string) as {
      delegationEvidence: unknown
    }
    expect({ delegationEvidence }).toEqual(moved(json(`cases/${expected}`) as typeof stored))
  })
})

describe('a chain whose first link another register signed (previous_steps)', () => {
  const register = freshRegister()
  const DRIVER = 'EU.EORI.NL000000009'

  it('follows a verified previous step to the stored next link, and refuses a tampered one', async () => {
    const first = current('cases/case1_policy.json')
    expect(
      (
        await call(register.server.url, 'PUT', '/v1/delegation-policies', {
          token: register.admin,
          body: first,
        })
      ).status,
    ).toBe(200)
    const signed = (
      await call(register.server.url, 'POST', '/delegation', {
        token: register.provider,
        body: json('cases/case1_mask.json'),
      })
    ).body.delegationToken as string
    // The first link now lives only in that signed step, as it would at another register.
    expect(
      (
        await call(register.server.url, 'DELETE', `/v1/delegation-policies/${OWNER}/${SUBJECT}`, {
          token: register.admin,
        })
      ).status,
    ).toBe(200)
    const onward = current('cases/case1_policy.json') as { delegationEvidence: Record<string, unknown> }
    onward.delegationEvidence.policyIssuer = SUBJECT
    onward.delegationEvidence.target = { accessSubject: DRIVER }
    expect(
      (
        await call(register.server.url, 'PUT', '/v1/delegation-policies', {
          token: register.admin,
          body: onward,
        })
      ).status,
    ).toBe(200)
    const mask = json('cases/case1_mask.json') as { delegationRequest: { target: { accessSubject: string } } }
    mask.delegationRequest.target.accessSubject = DRIVER
    expect(
      (await call(register.server.url, 'POST', '/delegation', { token: register.provider, body: mask }))
        .status,
    ).toBe(404)
    const through = await call(register.server.url, 'POST', '/delegation', {
      token: register.provider,
      body: { ...mask, previous_steps: [signed] },
    })
    expect(decodeJwt(through.body.delegationToken as string)).toMatchObject({
      delegationEvidence: {
        policyIssuer: OWNER,
        target: { accessSubject: DRIVER },
        policySets: [{ policies: [{ rules: [{ effect: 'Permit' }] }] }],
      },
    })
    const [h, p, sig] = signed.split('.')
    const tampered = await call(register.server.url, 'POST', '/delegation', {
      token: register.provider,
      body: { ...mask, previousSteps: [`${h}.${p}.${sig?.slice(3)}`] },
    })
    expect(tampered.status).toBe(400)
    expect(tampered.body.detail).toMatch(/^previous step 0 refused: the JWT is refused: /)
  })
})
