import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../src/config.js'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { type DelegationEvidence, parseEvidence } from '../../src/trust/delegation-shapes.js'
import { signEvidence } from '../../src/trust/evidence-token.js'
import { signPartyJwt } from '../../src/trust/ishare-jwt.js'
import { trustServicesOf } from '../../src/trust/operations.js'
import { CLIENT_ASSERTION_TYPE, clientAssertion } from '../../src/trust/party-client.js'
import { partyServer } from '../support/ishare-party-server.js'
import { tempSqlite } from '../support/temp-store.js'
import { type Issued, material, type TestPki, testPki } from '../support/test-pki.js'

/**
 * The participant register keeps its say after a party got in (issue 16): a party's access token stops
 * working once the register says the party is no longer active (401 invalid_token, the reason named), and
 * signed evidence is refused when its signer, or the policy issuer it speaks for, is not an active party.
 * Both with the parties recorded here (a suspension takes effect at once) and with a Satellite (its word
 * kept at most 60 s).
 */

const REGISTER = 'EU.EORI.NLREGISTER'
const SATELLITE = 'EU.EORI.NLSATELLITE'
const CARRIER = 'EU.EORI.NL000000001'
const OWNER = 'EU.EORI.NL000000003'
const LAPSED = 'EU.EORI.NL000000007'
const STRANGER = 'EU.EORI.NL000000008'

/** A register on a fresh store, trusting the test PKI's root, its clock the test's to move. */
function register(config: () => Partial<Config> = () => ({})) {
  const temp = tempSqlite()
  const state = { nowMs: Date.now() } as {
    nowMs: number
    pki: TestPki
    custodian: Custodian
    app: Awaited<ReturnType<typeof buildApp>>
  }
  beforeAll(async () => {
    state.pki = testPki()
    const roots = join(temp.dir, 'scheme-roots.pem')
    writeFileSync(roots, state.pki.root.pem)
    state.custodian = await Custodian.open({
      db: temp.target,
      follow: false,
      clock: () => state.nowMs,
      config: { logLevel: 'silent', registerId: REGISTER, trustedRoots: roots, ...config() },
    })
    state.app = await buildApp(state.custodian, { logger: createLogger('silent') })
  })
  afterAll(async () => {
    await state.app.close()
    await state.custodian.close()
    temp.remove()
  })
  const seconds = () => Math.floor(state.nowMs / 1000)

  /** An access token of `party`, got with its own client assertion. */
  const tokenOf = async (party: Issued, id: string) => {
    const response = await state.app.inject({
      method: 'POST',
      url: '/connect/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'iSHARE',
        client_id: id,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: await clientAssertion(material(party), id, REGISTER, seconds()),
      }).toString(),
    })
    expect(response.statusCode, response.body).toBe(200)
    return response.json().access_token as string
  }

  /** The party's token on each endpoint it is for: status, the OAuth error, and the problem's detail. */
  const uses = async (token: string) => {
    const headers = { authorization: `Bearer ${token}` }
    const answers = await Promise.all(
      [
        { method: 'POST' as const, url: '/delegation', payload: { delegationRequest: mask() } },
        { method: 'GET' as const, url: `/v1/delegation-policies?issuer=${CARRIER}` },
        { method: 'POST' as const, url: '/v1/trust/decisions', payload: { party: CARRIER, service: 's' } },
        { method: 'GET' as const, url: '/capabilities' },
      ].map((request) => state.app.inject({ ...request, headers })),
    )
    return answers.map((a) => ({
      status: a.statusCode,
      challenge: a.headers['www-authenticate'],
      detail: a.statusCode === 401 ? (a.json().detail as string) : undefined,
    }))
  }

  /** Evidence of `issuer` for the carrier, valid now. */
  const evidenceOf = (issuer: string): DelegationEvidence =>
    parseEvidence({
      delegationEvidence: {
        notBefore: seconds() - 60,
        notOnOrAfter: seconds() + 3600,
        policyIssuer: issuer,
        target: { accessSubject: CARRIER },
        policySets: [
          {
            target: { environment: { licenses: ['ISHARE.0001'] } },
            policies: [
              {
                target: { resource: { type: 'T', identifiers: ['*'], attributes: ['*'] }, actions: ['read'] },
                rules: [{ effect: 'Permit' }],
              },
            ],
          },
        ],
      },
    })

  /** What verifying evidence of `issuer` signed by `signer` (its key, as party `id`) for the carrier says. */
  const verdict = async (signer: Issued | 'this register', id: string, issuer: string) => {
    const { delegation } = trustServicesOf(state.custodian)
    const key = signer === 'this register' ? await delegation.material() : material(signer)
    const token = await signEvidence(key, id, CARRIER, evidenceOf(issuer), seconds())
    return delegation.verify(token, CARRIER, [issuer]).then(
      (evidence) => `accepted ${evidence.policyIssuer}`,
      (error: Error) => error.message,
    )
  }
  return { state, tokenOf, uses, verdict, seconds }
}

const mask = () => ({
  policyIssuer: OWNER,
  target: { accessSubject: CARRIER },
  policySets: [
    {
      policies: [
        {
          target: { resource: { type: 'T', identifiers: ['*'], attributes: ['*'] }, actions: ['read'] },
          rules: [{ effect: 'Permit' }],
        },
      ],
    },
  ],
})

/** Authenticated as the carrier: each endpoint answers (nothing found, nothing classified) rather than 401. */
const WORKING = [404, 200, 404, 200].map((status) => ({ status, challenge: undefined, detail: undefined }))

describe('with the parties recorded here', () => {
  const { state, tokenOf, uses, verdict } = register()
  const record = (id: string, status: 'active' | 'suspended') =>
    trustServicesOf(state.custodian).trust.putParty(undefined, {
      id,
      memberships: [{ association: 'port', status }],
    })
  beforeAll(async () => {
    await trustServicesOf(state.custodian).trust.putAssociation(undefined, { id: 'port' })
    for (const id of [CARRIER, OWNER]) await record(id, 'active')
    await record(LAPSED, 'suspended')
  })

  it('refuses a party’s token on every endpoint at once when the party is suspended', async () => {
    const token = await tokenOf(state.pki.participant(CARRIER), CARRIER)
    expect(await uses(token)).toEqual(WORKING)
    // PUT /v1/trust/parties/{id} runs this: the next use of the token is refused, whatever its hour.
    await record(CARRIER, 'suspended')
    const reason = `was given to a party that is no longer active: ${CARRIER} has no active membership (port: suspended)`
    const refused = await uses(token)
    for (const [i, action] of [
      'delegation.request',
      'delegation.policy.list',
      'trust.decide',
      'capabilities',
    ].entries())
      expect(refused[i]).toEqual({
        status: 401,
        challenge: 'Bearer realm="custodian", error="invalid_token"',
        detail: expect.stringMatching(
          new RegExp(
            `^${action} on .+ refused: token \\S+ of ${CARRIER} ${reason.replace(/[()]/g, '\\$&')}$`,
          ),
        ),
      })
    await record(CARRIER, 'active')
  })

  it('refuses evidence signed by a party recorded and not active, or issued by one', async () => {
    const lapsed = state.pki.participant(LAPSED)
    const reason = `${LAPSED} is not an active party: ${LAPSED} has no active membership (port: suspended)`
    expect(await verdict(lapsed, LAPSED, LAPSED)).toBe(`delegation evidence refused: its signer ${reason}`)
    // This register signs for others; the owner it signs for must stand too.
    expect(await verdict('this register', REGISTER, LAPSED)).toBe(
      `delegation evidence refused: its policy issuer ${reason}`,
    )
    expect(await verdict(state.pki.participant(OWNER), OWNER, OWNER)).toBe(`accepted ${OWNER}`)
  })

  it('accepts evidence of a party never recorded here on its certificate: the recorded parties are not the scheme’s', async () => {
    expect(await verdict(state.pki.participant(STRANGER), STRANGER, STRANGER)).toBe(`accepted ${STRANGER}`)
  })
})

describe('with a Satellite', () => {
  const standing = new Map<string, string>([
    [CARRIER, 'Active'],
    [OWNER, 'Active'],
    [LAPSED, 'Revoked'],
  ])
  const asked: string[] = []
  /** Its key, from the scheme's PKI the register makes: issued when first asked. */
  let satellite: Issued | undefined
  const { server, listen } = partyServer('satellite-token', async (url) => {
    const id = url.searchParams.get('eori') ?? ''
    asked.push(id)
    const status = standing.get(id)
    const data = status ? [{ party_id: id, party_name: id, adherence: { status } }] : []
    satellite ??= state.pki.participant(SATELLITE)
    const party_token = await signPartyJwt(
      material(satellite),
      { parties_info: { count: data.length, data } },
      { issuer: SATELLITE, audience: REGISTER, nowSeconds: seconds(), lifetimeSeconds: 30 },
    )
    return { status: 200, body: { party_token } }
  })
  let base = ''
  // Listening before the register starts (hooks run in order), which is told where.
  beforeAll(async () => {
    base = await listen()
  })
  const { state, tokenOf, uses, verdict, seconds } = register(() => ({
    participantRegister: base,
    participantRegisterId: SATELLITE,
    outboundAllow: '127.0.0.1',
    sourceCacheSeconds: 300,
  }))
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  it('refuses a party’s token once the Satellite says it is revoked, its word kept at most 60 s', async () => {
    const token = await tokenOf(state.pki.participant(CARRIER), CARRIER)
    expect(await uses(token)).toEqual(WORKING)
    standing.set(CARRIER, 'Revoked')
    const before = asked.length
    // Within a minute of its last answer the Satellite is not asked again, though answers may be kept 300 s.
    state.nowMs += 59_000
    expect(await uses(token)).toEqual(WORKING)
    expect(asked.length).toBe(before)
    state.nowMs += 2_000
    const refused = await uses(token)
    expect(refused.map((r) => [r.status, r.challenge])).toEqual(
      Array(4).fill([401, 'Bearer realm="custodian", error="invalid_token"']),
    )
    expect(refused[0]?.detail).toMatch(
      new RegExp(
        `^delegation.request on ${OWNER} -> ${CARRIER} refused: token \\S+ of ${CARRIER} was given to a party that is no longer active: the participant register says ${CARRIER} is Revoked$`,
      ),
    )
  })

  it('refuses evidence whose signer the Satellite says is revoked, or does not know (as iSHARE does)', async () => {
    expect(await verdict(state.pki.participant(LAPSED), LAPSED, LAPSED)).toBe(
      `delegation evidence refused: its signer ${LAPSED} is not an active party: the participant register says ${LAPSED} is Revoked`,
    )
    expect(await verdict(state.pki.participant(STRANGER), STRANGER, STRANGER)).toBe(
      `delegation evidence refused: its signer ${STRANGER} is not an active party: the participant register does not know ${STRANGER}`,
    )
    expect(await verdict(state.pki.participant(OWNER), OWNER, OWNER)).toBe(`accepted ${OWNER}`)
  })
})
