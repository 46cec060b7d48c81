import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerController } from '../support/housemate-controller.js'
import { call, type RunningServer, startServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/** The real server, started as `custodian serve` on a free port, spoken to over HTTP. */
describe('custodian serve', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  /** Voice prints are accepted only from a House Mate controller, with its own token. */
  let controller: string

  beforeAll(async () => {
    server = await startServer(temp.target, { CUSTODIAN_LOGIN_MAX_FAILURES_USER: '3' })
    const login = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'admin', password: server.adminPassword },
    })
    expect(login.status).toBe(201)
    admin = login.body.token as string
    controller = await registerController(server.url, admin)
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  it('prints its URL and, on an empty store, a first administrator password once', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(server.adminPassword).toMatch(/^[\w-]{20,}$/)
  })

  it('manages entities and checks access over HTTP, with reasons', async () => {
    const steps: [string, string, unknown?][] = [
      [
        'POST',
        '/v1/permissions',
        { id: 'control_oven', name: 'Control Oven', description: 'Full Control of Oven' },
      ],
      [
        'POST',
        '/v1/permissions',
        { id: 'control_door', name: 'Control Door', description: 'Full Control of Door' },
      ],
      ['POST', '/v1/roles', { id: 'adult_resident', name: 'Adult', description: 'Adult resident' }],
      ['POST', '/v1/roles', { id: 'child_resident', name: 'Child', description: 'Child resident' }],
      ['PUT', '/v1/roles/adult_resident/entitlements/control_oven'],
      ['PUT', '/v1/roles/adult_resident/entitlements/control_door'],
      ['PUT', '/v1/roles/child_resident/entitlements/control_door'],
      ['POST', '/v1/resources', { id: 'house1', description: 'House one' }],
      ['POST', '/v1/resources', { id: 'house1_kitchen', description: 'Kitchen', parent: 'house1' }],
      [
        'POST',
        '/v1/resource-roles',
        { id: 'house1_adult_resident', role: 'adult_resident', resource: 'house1' },
      ],
      [
        'POST',
        '/v1/resource-roles',
        { id: 'house1_child_resident', role: 'child_resident', resource: 'house1' },
      ],
      ['POST', '/v1/users', { id: 'sam', name: 'Sam' }],
      ['POST', '/v1/users', { id: 'jimmy', name: 'Jimmy' }],
      ['PUT', '/v1/users/sam/credentials/voice_print', { value: '--sam--' }],
      ['PUT', '/v1/users/jimmy/credentials/password', { value: 'jimmys password' }],
      ['PUT', '/v1/users/sam/resource-roles/house1_adult_resident'],
      ['PUT', '/v1/users/jimmy/resource-roles/house1_child_resident'],
    ]
    let revision = 0
    for (const [method, path, body] of steps) {
      const response = await call(server.url, method, path, { token: admin, body })
      expect([200, 201], `${method} ${path}: ${JSON.stringify(response.body)}`).toContain(response.status)
      expect(response.body.revision).toBeGreaterThan(revision)
      revision = response.body.revision as number
    }
    const user = await call(server.url, 'GET', '/v1/users/sam', { token: admin })
    expect(user.body).toEqual({
      id: 'sam',
      name: 'Sam',
      credentials: ['voice_print'],
      roles: [],
      permissions: [],
      resource_roles: ['house1_adult_resident'],
    })

    const sam = (
      await call(server.url, 'POST', '/v1/sessions', { token: controller, body: { voice_print: '--sam--' } })
    ).body.token as string
    const jimmy = (
      await call(server.url, 'POST', '/v1/sessions', { body: { user: 'jimmy', password: 'jimmys password' } })
    ).body.token as string
    const allowed = await call(server.url, 'POST', '/v1/check', {
      token: sam,
      body: { permission: 'control_oven', resource: 'house1_kitchen' },
    })
    expect(allowed.status).toBe(200)
    expect(allowed.body).toMatchObject({
      allowed: true,
      user: 'sam',
      reason: 'sam holds control_oven on house1, which contains house1_kitchen',
    })

    const denied = await call(server.url, 'POST', '/v1/check', {
      token: jimmy,
      body: { permission: 'control_oven', resource: 'house1' },
    })
    expect(denied.status).toBe(403)
    expect(denied.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(denied.body).toMatchObject({
      type: 'urn:custodian:problem:AccessDenied',
      code: 'AccessDenied',
      detail:
        'control_oven on house1 refused: jimmy holds control_door on house1; control_oven is not among them',
    })

    const out = await call(server.url, 'DELETE', '/v1/sessions/current', { token: jimmy })
    expect(out.status).toBe(200)
    const after = await call(server.url, 'POST', '/v1/check', {
      token: jimmy,
      body: { permission: 'control_door', resource: 'house1' },
    })
    expect(after.status).toBe(401)
    expect(after.body.code).toBe('InvalidAccessToken')
    expect(after.body.detail).toMatch(/was logged out at/)
  })

  it('refuses administration without an admin token, naming what is missing', async () => {
    const none = await call(server.url, 'POST', '/v1/roles', { body: { id: 'r' } })
    expect(none.status).toBe(401) // before the body is validated: an anonymous caller learns nothing
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="custodian"')
    expect(none.body.detail).toBe(
      'POST /v1/roles needs an access token: send Authorization: Bearer <token> (log in with POST /v1/sessions)',
    )
    const sam = (
      await call(server.url, 'POST', '/v1/sessions', { token: controller, body: { voice_print: '--sam--' } })
    ).body.token as string
    const notAdmin = await call(server.url, 'GET', '/v1/users', { token: sam })
    expect(notAdmin.status).toBe(403)
    expect(notAdmin.body.detail).toBe(
      'sam may not list users: it needs the user_admin permission (or admin), which sam does not hold',
    )
    const bogus = await call(server.url, 'GET', '/v1/users', { token: 'cst_abc.def' })
    expect(bogus.status).toBe(401)
  })

  it('answers bad input with a problem that names the field, never a stack trace', async () => {
    const missing = await call(server.url, 'POST', '/v1/users', { token: admin, body: { id: 'x' } })
    expect(missing.status).toBe(400)
    expect(missing.body).toMatchObject({ code: 'Validation', detail: 'body.name is required' })
    const badId = await call(server.url, 'POST', '/v1/users', {
      token: admin,
      body: { id: 'has space', name: 'X' },
    })
    expect(badId.body.detail).toMatch(/user id "has space" is not valid/)
    const duplicate = await call(server.url, 'POST', '/v1/users', {
      token: admin,
      body: { id: 'sam', name: 'X' },
    })
    expect(duplicate).toMatchObject({
      status: 409,
      body: { code: 'Conflict', detail: 'user sam already exists' },
    })
    const response = await fetch(`${server.url}/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: '{"id": ',
    })
    expect(response.status).toBe(400)
    const text = await response.text()
    expect(text).not.toMatch(/at \w+ \(/)
    const unknown = await call(server.url, 'GET', '/v1/nothing-here')
    expect(unknown).toMatchObject({ status: 404, body: { code: 'NotFound' } })
  })

  it('throttles repeated failed logins for one user, with Retry-After', async () => {
    for (let i = 0; i < 3; i++) {
      const failed = await call(server.url, 'POST', '/v1/sessions', {
        body: { user: 'jimmy', password: 'wrong' },
      })
      expect(failed.status).toBe(401)
      expect(failed.body.detail).toBe('login failed for user jimmy: unknown user or wrong password')
    }
    const throttled = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'jimmy', password: 'jimmys password' },
    })
    expect(throttled.status).toBe(429)
    const retryAfter = Number(throttled.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(30) // the first lockout, loginLockoutSeconds
    expect(throttled.body.detail).toMatch(/too many failed logins for user jimmy; try again in \d+ s/)
    expect(throttled.body.detail).toContain(`try again in ${retryAfter} s`)
  })

  it('serves an OpenAPI document covering every API route', async () => {
    const doc = await call(server.url, 'GET', '/openapi.json')
    const paths = Object.keys(doc.body.paths as object)
    expect(paths).toEqual(
      expect.arrayContaining([
        '/v1/sessions',
        '/v1/sessions/current',
        '/v1/check',
        '/v1/permissions',
        '/v1/roles/{id}/entitlements/{member}',
        '/v1/users/{id}/credentials/{kind}',
        '/v1/resource-roles/{id}',
        '/v1/audit',
      ]),
    )
  })

  it('records every administrative change and access decision in the audit log', async () => {
    const audit = await call(server.url, 'GET', '/v1/audit?limit=1000', { token: admin })
    const items = audit.body.items as {
      actor: string
      action: string
      resource: string
      outcome: string
      reason: string
    }[]
    expect(items).toContainEqual(
      expect.objectContaining({
        actor: 'admin',
        action: 'permission.define',
        resource: 'control_oven',
        outcome: 'ok',
      }),
    )
    expect(items).toContainEqual(
      expect.objectContaining({
        actor: 'jimmy',
        action: 'check:control_oven',
        resource: 'house1',
        outcome: 'denied',
      }),
    )
    expect(items).toContainEqual(
      expect.objectContaining({ actor: 'sam', action: 'check:control_oven', outcome: 'allowed' }),
    )
    // No secret reaches the log: not the passwords, not a token.
    const all = JSON.stringify(items) + server.output()
    expect(all).not.toContain('jimmys password')
    expect(all).not.toContain(admin)
  })
})

describe('restarts and several processes on one store', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it("keeps everything across a restart, and a second process sees the first one's change once caught up", async () => {
    const first = await startServer(temp.target)
    const admin = (
      await call(first.url, 'POST', '/v1/sessions', {
        body: { user: 'admin', password: first.adminPassword },
      })
    ).body.token as string
    await call(first.url, 'POST', '/v1/permissions', {
      token: admin,
      body: { id: 'open_door', name: 'Open', description: 'd' },
    })
    expect(await first.stop()).toBe(0)

    const restarted = await startServer(temp.target)
    expect(restarted.adminPassword).toBeUndefined()
    const kept = await call(restarted.url, 'GET', '/v1/permissions/open_door', { token: admin })
    expect(kept).toMatchObject({ status: 200, body: { id: 'open_door', name: 'Open' } })

    // The second node reads the change log only once a minute here, so only min_revision can make it fresh.
    const second = await startServer(temp.target, { CUSTODIAN_CHANGE_POLL_MS: '60000' })
    await call(restarted.url, 'POST', '/v1/users', { token: admin, body: { id: 'debra', name: 'Debra' } })
    await call(restarted.url, 'PUT', '/v1/users/debra/credentials/voice_print', {
      token: admin,
      body: { value: '--debra--' },
    })
    await call(restarted.url, 'PUT', '/v1/users/debra/roles/open_door', { token: admin })
    const controller = await registerController(restarted.url, admin)
    const debra = await call(restarted.url, 'POST', '/v1/sessions', {
      token: controller,
      body: { voice_print: '--debra--' },
    })
    expect(debra.status).toBe(201)
    const stale = await call(second.url, 'POST', '/v1/check', {
      token: debra.body.token as string,
      body: { permission: 'open_door', resource: 'front' },
    })
    expect(stale.status).toBe(401) // the second node has not heard of debra's token yet
    const loginRevision = Number((await call(restarted.url, 'GET', '/health')).body.revision)
    const check = await call(second.url, 'POST', '/v1/check', {
      token: debra.body.token as string,
      body: { permission: 'open_door', resource: 'front', min_revision: loginRevision },
    })
    expect(check).toMatchObject({ status: 200, body: { allowed: true, user: 'debra' } })
    await second.stop()
    await restarted.stop()
  })
})
