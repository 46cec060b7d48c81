import { spawnSync } from 'node:child_process'
import * as client from 'openid-client'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import {
  CLI,
  call,
  type RunningServer,
  startServer,
  startWithAdmin,
  userWithSession,
} from '../support/server.js'
import { tempPostgres } from '../support/temp-store.js'
import { authorizationRequest, registerSolarSavings } from '../support/third-party.js'

/** Whether `token`'s user may control the oven in `resource`, asked of one node. */
const check = (node: RunningServer, token: string, resource: string) =>
  call(node.url, 'POST', '/v1/check', { token, body: { permission: 'control_oven', resource } })

const auditVerify = (db: string) => {
  const run = spawnSync(process.execPath, [CLI, 'audit', 'verify', '--db', db], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'warn' },
  })
  return { code: run.status, stdout: run.stdout, stderr: run.stderr }
}

/** The real server on PostgreSQL, two nodes of it on one database, and the CLI on that database after them. */
describe('custodian serve on PostgreSQL', () => {
  let target: string
  let remove: () => Promise<void>
  let server: RunningServer
  let second: RunningServer | undefined
  let admin: string
  const sql = async (text: string, values: unknown[] = []) => {
    const db = new pg.Client({ connectionString: target })
    await db.connect()
    try {
      return (await db.query(text, values)).rows as Record<string, unknown>[]
    } finally {
      await db.end()
    }
  }

  beforeAll(async () => {
    ;({ target, remove } = await tempPostgres())
    ;({ server, admin } = await startWithAdmin(target))
  })
  afterAll(async () => {
    await second?.stop()
    await server.stop()
    await remove()
  })

  it('makes its schema and a first administrator in the database', async () => {
    expect(server.adminPassword).toMatch(/^[\w-]{20,}$/)
    expect(await sql('select id from users order by id')).toEqual([{ id: 'admin' }])
  })

  it('creates a user and a resource role, and checks access allowed and denied', async () => {
    const steps: [string, string, unknown?][] = [
      ['POST', '/v1/permissions', { id: 'control_oven', name: 'Control Oven', description: 'Oven' }],
      ['POST', '/v1/roles', { id: 'cook', name: 'Cook', description: 'Cooks' }],
      ['PUT', '/v1/roles/cook/entitlements/control_oven'],
      ['POST', '/v1/resources', { id: 'house1', description: 'House one' }],
      ['POST', '/v1/resources', { id: 'house1_kitchen', description: 'Kitchen', parent: 'house1' }],
      ['POST', '/v1/resource-roles', { id: 'house1_cook', role: 'cook', resource: 'house1' }],
    ]
    for (const [method, path, body] of steps) {
      const response = await call(server.url, method, path, { token: admin, body })
      expect([200, 201], `${method} ${path}: ${JSON.stringify(response.body)}`).toContain(response.status)
    }
    const sam = await userWithSession(server.url, admin, 'sam')
    const jo = await userWithSession(server.url, admin, 'jo')
    const assigned = await call(server.url, 'PUT', '/v1/users/sam/resource-roles/house1_cook', {
      token: admin,
    })
    expect(assigned.status).toBe(200)

    const allowed = await check(server, sam, 'house1_kitchen')
    expect(allowed).toMatchObject({
      status: 200,
      body: {
        allowed: true,
        user: 'sam',
        reason: 'sam holds control_oven on house1, which contains house1_kitchen',
      },
    })
    const denied = await check(server, jo, 'house1')
    expect(denied).toMatchObject({
      status: 403,
      body: {
        code: 'AccessDenied',
        detail:
          'control_oven on house1 refused: jo holds no permission that applies to house1, so not control_oven',
      },
    })
    expect(await sql("select user_id, grant_kind, target_id from user_grants where user_id = 'sam'")).toEqual(
      [{ user_id: 'sam', grant_kind: 'resource_role', target_id: 'house1_cook' }],
    )
  })

  it('runs a second node on the same database that follows the first one’s changes', async () => {
    const node = await startServer(target)
    second = node
    expect(node.adminPassword).toBeUndefined() // the administrator exists already
    const login = await call(node.url, 'POST', '/v1/sessions', {
      body: { user: 'sam', password: 'sam password' },
    })
    expect(login.status).toBe(201)
    const sam = login.body.token as string
    expect((await check(node, sam, 'house1')).status).toBe(200)
    const revoked = await call(server.url, 'DELETE', '/v1/users/sam/resource-roles/house1_cook', {
      token: admin,
    })
    expect(revoked.status).toBe(200)
    await vi.waitFor(async () => expect((await check(node, sam, 'house1')).status).toBe(403), {
      timeout: 10_000,
      interval: 50,
    })
  })

  it('runs an OAuth code flow with consent, and refuses the code a second time', async () => {
    const redirectUri = 'https://solar.example/callback'
    const scope = 'FB=4_5;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13'
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'Rabbit Hole Lane', kind: 'electricity' },
    })
    const { config } = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: 'https://solar.example/notify',
      scope: 'FB=1_4_5_15;IntervalDuration=900_3600;BlockDuration=monthly;HistoryLength=24',
    })
    const flow = await authorizationRequest(config, redirectUri, scope)
    const { callback, pages } = await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: 'alice',
      password: 'alice password',
    })
    expect(pages[1]).toContain('Solar Savings')
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
    })
    expect(tokens.scope).toBe(scope)
    const info = await client.tokenIntrospection(config, tokens.access_token)
    expect(info.active).toBe(true)
    expect(info.authorization_id).toMatch(/^au_/)
    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' })
    // A reused code revokes what it granted.
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false)
  })

  it('verifies the audit log with the CLI, and detects a changed record', async () => {
    await second?.stop()
    second = undefined
    await server.stop()
    const [{ n } = { n: 0 }] = await sql('select count(*)::int as n from audit_log')
    expect(n).toBeGreaterThanOrEqual(20)
    expect(auditVerify(target)).toMatchObject({
      code: 0,
      stdout: `audit log intact: ${n} record(s), hash chain verified from genesis\n`,
    })
    await sql("update audit_log set reason = 'nothing to see' where seq = 5")
    const changed = auditVerify(target)
    expect(changed.code).toBe(1)
    expect(changed.stdout).toContain('record 5: record content does not match its hash: it was changed')
  })
})
