import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readMailbox } from '../../src/notify/mailbox.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, registerSolarSavings } from '../support/third-party.js'
import { until } from '../support/wait.js'

/**
 * The operations the console added to the API, over HTTP: ending a user's sessions, an administrator's
 * termination of an authorization with a reason, and verifying the audit chain.
 */
describe('the operations behind the console', () => {
  const temp = tempSqlite()
  const mailbox = join(temp.dir, 'mailbox')
  let server: RunningServer
  let admin: string
  let authorizationId: string
  const redirectUri = 'https://solar.example/callback'

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target, {
      CUSTODIAN_MAILBOX: mailbox,
      CUSTODIAN_OUTBOX_POLL_MS: '50',
    }))
    await call(server.url, 'POST', '/v1/customers', {
      token: admin,
      body: {
        username: 'alice',
        name: 'Alice',
        email: 'alice@example.org',
        account_number: 'A-1',
        password: 'alice password',
      },
    })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'Meter', kind: 'electricity' },
    })
    const { config } = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: 'https://solar.example/n',
      scope: 'FB=1_4_5;IntervalDuration=3600',
    })
    const flow = await authorizationRequest(config, redirectUri, 'FB=4_5')
    await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: 'alice',
      password: 'alice password',
    })
    const listed = await call(server.url, 'GET', '/v1/authorizations', { token: admin })
    authorizationId = (listed.body.items as { id: string }[])[0]?.id as string
  })
  afterAll(async () => {
    await server?.stop()
    temp.remove()
  })

  it('ends every open session of a user: its tokens are refused at once', async () => {
    const first = await userWithSession(server.url, admin, 'carol')
    const second = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'carol', password: 'carol password' },
    })
    const ended = await call(server.url, 'DELETE', '/v1/users/carol/sessions', { token: admin })
    expect(ended.status).toBe(200)
    expect(ended.body.summary).toBe('ended 2 session(s) of user carol')
    for (const token of [first, second.body.token as string])
      expect(
        (await call(server.url, 'POST', '/v1/check', { token, body: { permission: 'x', resource: 'y' } }))
          .status,
      ).toBe(401)
    const sessions = await call(server.url, 'GET', '/v1/users/carol/sessions', { token: admin })
    expect(sessions.body.items).toEqual([])
    expect((await call(server.url, 'DELETE', '/v1/users/nobody/sessions', { token: admin })).status).toBe(404)
    // Not for a user without the permission: carol may not end the administrator's sessions.
    const own = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'carol', password: 'carol password' },
    })
    const refused = await call(server.url, 'DELETE', '/v1/users/admin/sessions', {
      token: own.body.token as string,
    })
    expect(refused.status).toBe(403)
  })

  it('lets an administrator terminate an authorization with a reason, once; the customer is emailed it', async () => {
    const customer = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'alice', password: 'alice password' },
    })
    const byCustomer = await call(server.url, 'POST', `/v1/authorizations/${authorizationId}/termination`, {
      token: customer.body.token as string,
      body: { reason: 'mine' },
    })
    expect(byCustomer.status).toBe(403)
    const noReason = await call(server.url, 'POST', `/v1/authorizations/${authorizationId}/termination`, {
      token: admin,
      body: { reason: '' },
    })
    expect(noReason.status).toBe(400)
    const done = await call(server.url, 'POST', `/v1/authorizations/${authorizationId}/termination`, {
      token: admin,
      body: { reason: 'the meter was sold' },
    })
    expect(done.status).toBe(200)
    expect(done.body.summary).toBe(
      `authorization ${authorizationId} terminated by an administrator: the meter was sold`,
    )
    const again = await call(server.url, 'POST', `/v1/authorizations/${authorizationId}/termination`, {
      token: admin,
      body: { reason: 'twice' },
    })
    expect(again.status).toBe(409)
    const mail = await until('the email to alice', async () =>
      (await readMailbox(mailbox)).find((m) => /terminated/.test(m.subject)),
    )
    expect(mail.to).toContain('alice@example.org')
    expect(mail.text).toContain('We ended Solar Savings')
    expect(mail.text).toContain('for this reason: the meter was sold.')
  })

  it('verifies the audit chain for an administrator, and no one else', async () => {
    const verified = await call(server.url, 'POST', '/v1/audit/verification', { token: admin, body: {} })
    expect(verified.status).toBe(200)
    expect(verified.body).toMatchObject({ ok: true, from: 'genesis', problems: [] })
    expect(verified.body.records).toBeGreaterThan(10)
    const dave = await userWithSession(server.url, admin, 'dave')
    expect((await call(server.url, 'POST', '/v1/audit/verification', { token: dave, body: {} })).status).toBe(
      403,
    )
  })
})
