import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentPolicy } from '../support/ishare.js'
import { CLI, call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

const OWNER = 'EU.EORI.NL000000003'
const CARRIER = 'EU.EORI.NL000000001'
const PROVIDER = 'EU.EORI.NL000000004'
const OTHER_OWNER = 'EU.EORI.NL000000005'

/**
 * Evidence pattern 3: a data service provider's Custodian asks another Custodian, the Authorization
 * Register, at decision time, and verifies the evidence signed for it against that register's root.
 */
describe('a remote Authorization Register asked at decision time', () => {
  const registerDb = tempSqlite()
  const providerDb = tempSqlite()
  let register: RunningServer
  let provider: RunningServer
  let providerAdmin: string
  let remoteSettings: Record<string, string>

  beforeAll(async () => {
    const started = await startWithAdmin(registerDb.target, { CUSTODIAN_REGISTER_ID: 'EU.EORI.NLREGISTER' })
    register = started.server
    const owner = await userWithSession(register.url, started.admin, OWNER)
    const asking = await userWithSession(register.url, started.admin, PROVIDER)
    const stored = await call(register.url, 'PUT', '/v1/delegation-policies', {
      token: owner,
      body: currentPolicy('case2_policy.json', 3600),
    })
    expect(stored.status).toBe(200)
    // Another owner's policy, for every attribute of its containers but 120-123.
    const other = currentPolicy('case2_policy.json', 3600)
    const evidence = other.delegationEvidence as unknown as {
      policyIssuer: string
      policySets: { policies: { target: { resource: { attributes: string[] } } }[] }[]
    }
    evidence.policyIssuer = OTHER_OWNER
    for (const set of evidence.policySets) for (const p of set.policies) p.target.resource.attributes = ['*']
    const otherStored = await call(register.url, 'PUT', '/v1/delegation-policies', {
      token: await userWithSession(register.url, started.admin, OTHER_OWNER),
      body: other,
    })
    expect(otherStored.status, JSON.stringify(otherStored.body)).toBe(200)
    // The owner's policies may be read (copied) by the provider: read_delegations on delegations:<owner>.
    for (const [method, path, body] of [
      [
        'POST',
        '/v1/permissions',
        { id: 'read_delegations', name: 'Read delegations', description: 'copies an issuer’s policies' },
      ],
      ['POST', '/v1/roles', { id: 'register_readers', name: 'Register readers', description: 'keep copies' }],
      ['PUT', '/v1/roles/register_readers/entitlements/read_delegations', undefined],
      [
        'POST',
        '/v1/resource-roles',
        { id: 'w13_readers', role: 'register_readers', resource: `delegations:${OWNER}` },
      ],
      ['PUT', `/v1/users/${PROVIDER}/resource-roles/w13_readers`, undefined],
    ] as const) {
      const done = await call(register.url, method, path, { token: started.admin, ...(body ? { body } : {}) })
      expect(done.status, `${method} ${path}: ${JSON.stringify(done.body)}`).toBeLessThan(300)
    }
    // The provider trusts the register's root, as published by the register.
    const roots = join(providerDb.dir, 'register-roots.pem')
    writeFileSync(roots, await (await fetch(`${register.url}/delegation/certificates`)).text())
    remoteSettings = {
      CUSTODIAN_REMOTE_REGISTER: register.url,
      CUSTODIAN_REMOTE_REGISTER_TOKEN: asking,
      CUSTODIAN_REMOTE_REGISTER_PARTY: PROVIDER,
      CUSTODIAN_TRUSTED_ROOTS: roots,
      CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1',
      // The register signs the owner's evidence: the provider trusts it to speak for others.
      CUSTODIAN_TRUSTED_REGISTERS: 'EU.EORI.NLREGISTER',
    }
    ;({ server: provider, admin: providerAdmin } = await startWithAdmin(providerDb.target, remoteSettings))
    const put = (path: string, body: unknown) =>
      call(provider.url, 'PUT', path, { token: providerAdmin, body })
    await put('/v1/trust/associations/port', {})
    await put('/v1/trust/services/shipper-data', {
      association: 'port',
      classification: 'high',
      owner: OWNER,
      resource_type: 'CONTAINER.DATA',
    })
    await put('/v1/trust/services/other-owner-data', {
      association: 'port',
      classification: 'high',
      owner: OTHER_OWNER,
      resource_type: 'CONTAINER.DATA',
    })
    await put(`/v1/trust/parties/${CARRIER}`, {
      reputation: { level: 'high', source: 'port' },
      memberships: [{ association: 'port' }],
    })
  })
  afterAll(async () => {
    await provider.stop()
    if (register) await register.stop()
    registerDb.remove()
    providerDb.remove()
  })

  const decide = async (container: string) => {
    const answer = await call(provider.url, 'POST', '/v1/trust/decisions', {
      token: providerAdmin,
      body: {
        party: CARRIER,
        service: 'shipper-data',
        identifiers: [container],
        attributes: ['CONTAINER.DATA.ATTRIBUTE.ETA'],
      },
    })
    const body = answer.body as { allowed: boolean; findings: { input: string; found: string }[] }
    return {
      allowed: body.allowed,
      authorization: body.findings.find((f) => f.input === 'authorization')?.found,
    }
  }

  it('uses the remote register’s signed evidence: a Permit, and a Deny rule overriding it', async () => {
    expect(await decide('180621.ABC125')).toEqual({
      allowed: true,
      authorization: `the remote register’s evidence from ${OWNER}: permitted`,
    })
    expect(await decide('180621.ABC123')).toEqual({
      allowed: false,
      authorization: `the remote register’s evidence from ${OWNER}: the policy that applies says Deny`,
    })
  })

  it('asks the remote register for a question naming no attributes, and accepts its answer', async () => {
    const answer = await call(provider.url, 'POST', '/v1/trust/decisions', {
      token: providerAdmin,
      body: { party: CARRIER, service: 'other-owner-data', identifiers: ['180621.ABC125'] },
    })
    const body = answer.body as { allowed: boolean; findings: { input: string; found: string }[] }
    expect(body.findings.find((f) => f.input === 'authorization')?.found).toBe(
      `the remote register’s evidence from ${OTHER_OWNER}: permitted`,
    )
    expect(body.allowed).toBe(true)
  })

  it('keeps a synchronised copy of the owner’s policies (pattern 1), used before asking the register', async () => {
    const sync = spawnSync(
      process.execPath,
      [CLI, 'delegation', 'sync', '--issuer', OWNER, '--db', providerDb.target, '--token', providerAdmin],
      { encoding: 'utf8', env: { ...process.env, ...remoteSettings } },
    )
    expect(sync.stderr).toBe('')
    expect(sync.stdout).toMatch(
      new RegExp(`^mirrored 1 policy\\(ies\\) of ${OWNER} from the remote register, removed 0`),
    )
    // The serving node catches up with the change log; then the local copy answers.
    const local = await until('the local copy', async () => {
      const answer = await decide('180621.ABC125')
      return answer.authorization?.startsWith('the register’s evidence') ? answer : undefined
    })
    expect(local).toEqual({
      allowed: true,
      authorization: `the register’s evidence from ${OWNER}: permitted`,
    })
  })

  it('decides from the copy when the register is down, and denies, saying why, where it has none', async () => {
    await register.stop()
    expect((await decide('180621.ABC125')).allowed).toBe(true)
    const other = await call(provider.url, 'POST', '/v1/trust/decisions', {
      token: providerAdmin,
      body: { party: CARRIER, service: 'other-owner-data' },
    })
    const body = other.body as { allowed: boolean; findings: { input: string; found: string }[] }
    expect(body.allowed).toBe(false)
    // A closed port reads like every other failure to ask (the cause is in the provider's log).
    expect(body.findings.find((f) => f.input === 'authorization')?.found).toBe(
      'the remote register could not be asked',
    )
  })
})
