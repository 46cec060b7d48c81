import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { withoutComments } from '../../src/trust/delegation.js'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const OWNER = 'EU.EORI.NL000000003'
const CARRIER = 'EU.EORI.NL000000001'
const PROVIDER = 'EU.EORI.NL000000004'

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

  beforeAll(async () => {
    const started = await startWithAdmin(registerDb.target, { CUSTODIAN_REGISTER_ID: 'EU.EORI.NLREGISTER' })
    register = started.server
    const owner = await userWithSession(register.url, started.admin, OWNER)
    const asking = await userWithSession(register.url, started.admin, PROVIDER)
    const { delegationEvidence } = JSON.parse(
      withoutComments(
        readFileSync(new URL('../../../shared/data/ishare/cases/case2_policy.json', import.meta.url), 'utf8'),
      ),
    ) as { delegationEvidence: Record<string, unknown> }
    const now = Math.floor(Date.now() / 1000)
    const stored = await call(register.url, 'PUT', '/v1/delegation-policies', {
      token: owner,
      body: { delegationEvidence: { ...delegationEvidence, notBefore: now - 60, notOnOrAfter: now + 3600 } },
    })
    expect(stored.status).toBe(200)
    // The provider trusts the register's root, as published by the register.
    const roots = join(providerDb.dir, 'register-roots.pem')
    writeFileSync(roots, await (await fetch(`${register.url}/delegation/certificates`)).text())
    ;({ server: provider, admin: providerAdmin } = await startWithAdmin(providerDb.target, {
      CUSTODIAN_REMOTE_REGISTER: register.url,
      CUSTODIAN_REMOTE_REGISTER_TOKEN: asking,
      CUSTODIAN_REMOTE_REGISTER_PARTY: PROVIDER,
      CUSTODIAN_TRUSTED_ROOTS: roots,
    }))
    const put = (path: string, body: unknown) =>
      call(provider.url, 'PUT', path, { token: providerAdmin, body })
    await put('/v1/trust/associations/port', {})
    await put('/v1/trust/services/shipper-data', {
      association: 'port',
      classification: 'high',
      owner: OWNER,
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

  it('denies, saying why, when the register cannot be reached', async () => {
    await register.stop()
    const { allowed, authorization } = await decide('180621.ABC125')
    expect(allowed).toBe(false)
    expect(authorization).toMatch(/^the remote register could not be asked: /)
  })
})
