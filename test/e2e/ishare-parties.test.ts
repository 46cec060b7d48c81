import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../../src/config.js'
import { delegationLimits } from '../../src/trust/delegation-limits.js'
import { verifyEvidence } from '../../src/trust/evidence-token.js'
import { CLIENT_ASSERTION_TYPE } from '../../src/trust/party-client.js'
import { CLI, call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { type Issued, type TestPki, testPki } from '../support/test-pki.js'
import { until } from '../support/wait.js'

const REGISTER = 'EU.EORI.NLREGISTER'
const PROVIDER = 'EU.EORI.NL000000004'
const OWNER = 'EU.EORI.NL000000003'
const CARRIER = 'EU.EORI.NL000000001'

const ETA = 'CONTAINER.DATA.ATTRIBUTE.ETA'

const now = () => Math.floor(Date.now() / 1000)

/** The owner lets the carrier read every container's ETA but one. */
const ownersPolicy = () => ({
  delegationEvidence: {
    notBefore: now() - 60,
    notOnOrAfter: now() + 3600,
    policyIssuer: OWNER,
    target: { accessSubject: CARRIER },
    policySets: [
      {
        maxDelegationDepth: 0,
        target: { environment: { licenses: ['ISHARE.0001'] } },
        policies: [
          {
            target: {
              resource: {
                type: 'CONTAINER.DATA',
                identifiers: ['*'],
                attributes: [ETA],
              },
              actions: ['ISHARE.READ'],
            },
            rules: [
              { effect: 'Permit' },
              {
                effect: 'Deny',
                target: { resource: { type: 'CONTAINER.DATA', identifiers: ['C-9'], attributes: ['*'] } },
              },
            ],
          },
        ],
      },
    ],
  },
})

/**
 * Two Custodian servers as two iSHARE parties of one scheme (issue 16): a register, and a data service
 * provider that authenticates there with client assertions signed by its own key, for the register's
 * /delegation, for trust decisions that poll the register (evidence pattern 3), and for `delegation sync`.
 */
describe('two Custodian servers as iSHARE parties', () => {
  const registerDb = tempSqlite()
  const providerDb = tempSqlite()
  let register: RunningServer
  let provider: RunningServer
  let providerAdmin: string
  let providerSettings: Record<string, string>
  let roots: string
  let pki: TestPki
  const files = (party: string, issued: Issued, dir: string) => {
    const key = join(dir, `${party}.key.pem`)
    const chain = join(dir, `${party}.chain.pem`)
    writeFileSync(key, issued.key)
    writeFileSync(chain, issued.chain.join(''))
    return { key, chain }
  }
  let providerFiles: { key: string; chain: string }

  beforeAll(async () => {
    // One scheme CA: each party's certificate names it (subject serialNumber).
    pki = testPki()
    roots = join(registerDb.dir, 'scheme-roots.pem')
    writeFileSync(roots, pki.root.pem)
    const registerFiles = files(REGISTER, pki.participant(REGISTER), registerDb.dir)
    providerFiles = files(PROVIDER, pki.participant(PROVIDER), providerDb.dir)

    const started = await startWithAdmin(registerDb.target, {
      CUSTODIAN_REGISTER_ID: REGISTER,
      CUSTODIAN_DELEGATION_KEY: registerFiles.key,
      CUSTODIAN_DELEGATION_CERTIFICATES: registerFiles.chain,
      CUSTODIAN_TRUSTED_ROOTS: roots,
    })
    register = started.server
    const admin = started.admin
    const owner = await userWithSession(register.url, admin, OWNER)
    expect(
      (await call(register.url, 'PUT', '/v1/delegation-policies', { token: owner, body: ownersPolicy() }))
        .status,
    ).toBe(200)
    // The register's participant register: the provider, an active member. Its user may copy the owner's
    // policies (read_delegations on delegations:<owner>), as pattern 1 asks.
    for (const [method, path, body] of [
      ['PUT', '/v1/trust/associations/port', {}],
      ['PUT', `/v1/trust/parties/${PROVIDER}`, { memberships: [{ association: 'port' }] }],
      ['POST', '/v1/users', { id: PROVIDER, name: 'the data service provider' }],
      [
        'POST',
        '/v1/permissions',
        { id: 'read_delegations', name: 'Read delegations', description: 'copies' },
      ],
      ['POST', '/v1/roles', { id: 'register_readers', name: 'Register readers', description: 'keep copies' }],
      ['PUT', '/v1/roles/register_readers/entitlements/read_delegations', undefined],
      [
        'POST',
        '/v1/resource-roles',
        { id: 'owner_readers', role: 'register_readers', resource: `delegations:${OWNER}` },
      ],
      ['PUT', `/v1/users/${PROVIDER}/resource-roles/owner_readers`, undefined],
    ] as const) {
      const done = await call(register.url, method, path, { token: admin, ...(body ? { body } : {}) })
      expect(done.status, `${method} ${path}: ${JSON.stringify(done.body)}`).toBeLessThan(300)
    }

    // The provider: its own key and chain, the scheme's roots, and no token for the register, only its id.
    providerSettings = {
      CUSTODIAN_REGISTER_ID: PROVIDER,
      CUSTODIAN_DELEGATION_KEY: providerFiles.key,
      CUSTODIAN_DELEGATION_CERTIFICATES: providerFiles.chain,
      CUSTODIAN_TRUSTED_ROOTS: roots,
      CUSTODIAN_REMOTE_REGISTER: register.url,
      CUSTODIAN_REMOTE_REGISTER_ID: REGISTER,
      CUSTODIAN_TRUSTED_REGISTERS: REGISTER,
      CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1',
    }
    ;({ server: provider, admin: providerAdmin } = await startWithAdmin(providerDb.target, providerSettings))
    for (const [path, body] of [
      ['/v1/trust/associations/port', {}],
      [
        '/v1/trust/services/shipper-data',
        { association: 'port', classification: 'high', owner: OWNER, resource_type: 'CONTAINER.DATA' },
      ],
      [
        `/v1/trust/parties/${CARRIER}`,
        { reputation: { level: 'high', source: 'port' }, memberships: [{ association: 'port' }] },
      ],
    ] as const) {
      const done = await call(provider.url, 'PUT', path, { token: providerAdmin, body })
      expect(done.status, `PUT ${path}: ${JSON.stringify(done.body)}`).toBeLessThan(300)
    }
  })
  afterAll(async () => {
    await provider?.stop()
    await register?.stop()
    registerDb.remove()
    providerDb.remove()
  })

  /** The register's access token for the provider, for an assertion made by `custodian party assertion`. */
  const providerToken = async () => {
    const made = spawnSync(
      process.execPath,
      [
        CLI,
        'party',
        'assertion',
        '--key',
        providerFiles.key,
        '--chain',
        providerFiles.chain,
        '--audience',
        REGISTER,
      ],
      { encoding: 'utf8' },
    )
    expect(made.stderr).toBe('')
    const response = await fetch(`${register.url}/connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'iSHARE',
        client_id: PROVIDER,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: made.stdout.trim(),
      }),
    })
    const body = (await response.json()) as { access_token?: string }
    expect(response.status, JSON.stringify(body)).toBe(200)
    return body.access_token as string
  }

  it('the provider gets a token with a client assertion, asks /delegation, and verifies the signed answer', async () => {
    const token = await providerToken()
    // The owner's policy as the mask, for one container it does not deny: is that granted?
    const mask = ownersPolicy().delegationEvidence
    const policy = mask.policySets[0]?.policies[0]
    if (policy) {
      policy.target.resource.identifiers = ['C-1']
      policy.rules = [{ effect: 'Permit' }]
    }
    const asked = await call(register.url, 'POST', '/delegation', {
      token,
      body: { delegationRequest: mask },
    })
    expect(asked.status, JSON.stringify(asked.body)).toBe(200)
    const used = new Set<string>()
    const { evidence, signer } = await verifyEvidence(asked.body.delegation_token as string, {
      trustedRoots: [pki.root.pem],
      audience: PROVIDER,
      trustedRegisters: [REGISTER],
      nowSeconds: now(),
      clockSkewSeconds: 10,
      limits: delegationLimits(defaultConfig()),
      claimJti: async (issuer, jti) => !used.has(`${issuer} ${jti}`) && Boolean(used.add(`${issuer} ${jti}`)),
    })
    expect(evidence.policyIssuer).toBe(OWNER)
    expect(signer).toBe(REGISTER)
    expect(evidence.policySets[0]?.policies[0]?.rules).toEqual([{ effect: 'Permit' }])
    // The same token reads the register's restricted capabilities, signed by the register for the provider.
    const capabilities = await call(register.url, 'GET', '/capabilities', { token })
    const claims = decodeJwt(capabilities.body.capabilities_token as string)
    expect(claims).toMatchObject({ iss: REGISTER, aud: PROVIDER })
    expect(JSON.stringify(claims.capabilities_info)).toContain(`${register.url}/v1/trust/decisions`)
  })

  /** The provider's decision on the carrier reading a container's ETA: allowed, and on whose evidence. */
  const decide = async (container: string) => {
    const { body } = await call(provider.url, 'POST', '/v1/trust/decisions', {
      token: providerAdmin,
      body: { party: CARRIER, service: 'shipper-data', identifiers: [container], attributes: [ETA] },
    })
    const { allowed, findings } = body as { allowed: boolean; findings: { input: string; found: string }[] }
    return [allowed, findings.find((f) => f.input === 'authorization')?.found]
  }

  it('a trust decision polls the register (pattern 3), authenticated by the provider’s client assertion', async () => {
    const remote = `the remote register’s evidence from ${OWNER}`
    expect(await decide('C-1')).toEqual([true, `${remote}: permitted`])
    expect(await decide('C-9')).toEqual([false, `${remote}: the policy that applies says Deny`])
  })

  it('delegation sync copies the owner’s policies, authenticated the same way', async () => {
    const sync = spawnSync(
      process.execPath,
      [CLI, 'delegation', 'sync', '--issuer', OWNER, '--db', providerDb.target, '--token', providerAdmin],
      { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'warn', ...providerSettings } },
    )
    expect(sync.stderr).toBe('')
    expect(sync.stdout).toMatch(
      new RegExp(`^mirrored 1 policy\\(ies\\) of ${OWNER} from the remote register`),
    )
    const local = await until('the local copy', async () => {
      const answer = await decide('C-1')
      return String(answer[1]).startsWith('the register’s evidence') ? answer : undefined
    })
    expect(local[0]).toBe(true)
  })
})
