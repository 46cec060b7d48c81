import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentPolicy } from '../support/ishare.js'
import { CLI, call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const OWNER = 'EU.EORI.NL000000003' // Warehouse 13: owns the shipper data
const CARRIER = 'EU.EORI.NL000000001' // ABC Trucking: the case policies' access subject
const FORWARDER = 'EU.EORI.NL000000007'
const PROVIDER = 'EU.EORI.NL000000004' // the data service provider deciding

/** Warehouse 13's policy of the register's case 2 (ETA of every container but 120-123), made current. */
const policy = () => currentPolicy('case2_policy.json')

describe('BDI trust decisions over HTTP and the CLI', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  const tokens: Record<string, string> = {}
  const put = async (path: string, body: unknown) => {
    const result = await call(server.url, 'PUT', path, { token: admin, body })
    expect(result.status, JSON.stringify(result.body)).toBe(200)
  }
  const decide = async (body: Record<string, unknown>) =>
    (await call(server.url, 'POST', '/v1/trust/decisions', { token: tokens[PROVIDER], body })).body as {
      allowed: boolean
      reason: string
      findings: { input: string; satisfied: boolean; found: string }[]
    }

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    for (const id of [OWNER, PROVIDER]) tokens[id] = await userWithSession(server.url, admin, id)
    await call(server.url, 'PUT', '/v1/delegation-policies', { token: tokens[OWNER], body: policy() })
    await put('/v1/trust/associations/bdi', {})
    await put('/v1/trust/associations/dutch-logistics', { parent: 'bdi' })
    await put('/v1/trust/associations/port-of-rotterdam', { parent: 'dutch-logistics' })
    // The seed's classification examples.
    await put('/v1/trust/services/container-location', {
      association: 'port-of-rotterdam',
      classification: 'low',
    })
    await put('/v1/trust/services/container-contents', {
      association: 'port-of-rotterdam',
      classification: 'medium',
    })
    await put('/v1/trust/services/shipper-data', {
      association: 'port-of-rotterdam',
      classification: 'high',
      owner: OWNER,
      resource_type: 'CONTAINER.DATA',
    })
    await put(`/v1/trust/parties/${CARRIER}`, {
      assurance: 'high',
      reputation: { score: 91, source: 'port reputation model' },
      memberships: [{ association: 'port-of-rotterdam' }],
    })
    await put(`/v1/trust/parties/${FORWARDER}`, {
      reputation: { level: 'medium', source: 'port reputation model' },
      memberships: [{ association: 'dutch-logistics' }],
    })
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  const shipper = (identifier: string, extra: Record<string, unknown> = {}) => ({
    party: CARRIER,
    service: 'shipper-data',
    identifiers: [identifier],
    attributes: ['CONTAINER.DATA.ATTRIBUTE.ETA'],
    ...extra,
  })

  it('lets the carrier read personal shipper data where the owner’s evidence in the register permits it', async () => {
    const decision = await decide(shipper('180621.ABC125'))
    expect(decision.allowed).toBe(true)
    expect(decision.findings.map((f) => [f.input, f.satisfied])).toEqual([
      ['association', true],
      ['reputation', true],
      ['authorization', true],
    ])
  })

  it('refuses it where a Deny rule overrides the Permit, and says so', async () => {
    const decision = await decide(shipper('180621.ABC123'))
    expect(decision.allowed).toBe(false)
    expect(decision.findings.find((f) => f.input === 'authorization')?.found).toBe(
      `the register’s evidence from ${OWNER}: a Deny rule (rule 2) overrides the Permit`,
    )
  })

  it('accepts signed evidence the request carries, and refuses it tampered with', async () => {
    const mask = {
      delegationRequest: {
        policyIssuer: OWNER,
        target: { accessSubject: CARRIER },
        policySets: [
          {
            policies: [
              {
                target: {
                  resource: {
                    type: 'CONTAINER.DATA',
                    identifiers: ['180621.ABC125'],
                    attributes: ['CONTAINER.DATA.ATTRIBUTE.ETA'],
                  },
                  actions: ['ISHARE.READ'],
                },
              },
            ],
          },
        ],
      },
    }
    const signed = (await call(server.url, 'POST', '/delegation', { token: tokens[PROVIDER], body: mask }))
      .body.delegationToken as string
    await put('/v1/trust/services/shipper-data-carried', {
      association: 'port-of-rotterdam',
      classification: 'high',
      resource_type: 'CONTAINER.DATA',
    })
    const carried = await decide(
      shipper('180621.ABC125', { service: 'shipper-data-carried', evidence: signed }),
    )
    expect(carried.allowed).toBe(true)
    const [h, p, s] = signed.split('.')
    const forged = await decide(
      shipper('180621.ABC125', { service: 'shipper-data-carried', evidence: `${h}.${p}.${s?.slice(4)}` }),
    )
    expect(forged.allowed).toBe(false)
    expect(forged.findings.find((f) => f.input === 'authorization')?.found).toMatch(
      /^delegation evidence refused: /,
    )
  })

  it('accepts evidence restricted to named service providers when a listed provider asks', async () => {
    // The register's case 3 policy: EU.EORI.NL000000005's containers, for service provider OWNER only.
    const issuer = 'EU.EORI.NL000000005'
    const stored = await call(server.url, 'PUT', '/v1/delegation-policies', {
      token: await userWithSession(server.url, admin, issuer),
      body: currentPolicy('case3_policy.json'),
    })
    expect(stored.status, JSON.stringify(stored.body)).toBe(200)
    await put('/v1/trust/services/container-eta', {
      association: 'port-of-rotterdam',
      classification: 'high',
      owner: issuer,
      resource_type: 'GS1.CONTAINER',
    })
    const question = {
      party: CARRIER,
      service: 'container-eta',
      identifiers: ['180621.ABC130'],
      attributes: ['GS1.CONTAINER.ATTRIBUTE.ETA'],
    }
    const asked = async (by: string) =>
      (await call(server.url, 'POST', '/v1/trust/decisions', { token: tokens[by], body: question }))
        .body as Awaited<ReturnType<typeof decide>>
    const listed = await asked(OWNER)
    expect(listed.findings.find((f) => f.input === 'authorization')?.found).toBe(
      `the register’s evidence from ${issuer}: permitted`,
    )
    expect(listed.allowed).toBe(true)
    const other = await asked(PROVIDER)
    expect(other.allowed).toBe(false)
    expect(other.findings.find((f) => f.input === 'authorization')?.found).toBe(
      `the register’s evidence from ${issuer}: the policy is for service providers ${OWNER} only`,
    )
  })

  it('trusts the forwarder through its parent association for location and contents, not personal data', async () => {
    const verdicts = []
    for (const service of ['container-location', 'container-contents', 'shipper-data'])
      verdicts.push((await decide({ party: FORWARDER, service })).allowed)
    expect(verdicts).toEqual([true, true, false])
  })

  it('answers the same on the command line, input by input', () => {
    const run = spawnSync(
      process.execPath,
      [
        CLI,
        'trust',
        'decide',
        '--party',
        FORWARDER,
        '--service',
        'shipper-data',
        '--db',
        temp.target,
        '--token',
        admin,
      ],
      {
        encoding: 'utf8',
      },
    )
    expect(run.status).toBe(1)
    expect(run.stdout).toMatch(/^denied: EU\.EORI\.NL000000007 does not meet what high data requires/)
    expect(run.stdout).toContain(
      '  FAIL association: required high; found medium (member of dutch-logistics, a parent association)\n',
    )
    expect(run.stdout).toContain(
      `  FAIL authorization: required a granular authorization (delegation evidence) permitting it; found the register holds no evidence of ${OWNER} for ${FORWARDER}\n`,
    )
  })
})
