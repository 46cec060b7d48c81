import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { CookieJar } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * The account pages' session also signs a customer in to the OAuth interaction (one sign-in). It must not
 * stand in for a fresh sign-in the third party asked for (prompt=login), nor sign in anyone who is not a
 * customer, nor anyone at all when the cookie is not a live session.
 */
describe('the shared sign-in is refused', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let alice: string
  let clientId: string
  const redirectUri = 'https://solar.example/callback'

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    const party = await call(server.url, 'POST', '/v1/third-parties', {
      token: admin,
      body: {
        name: 'Solar Savings',
        redirect_uris: [redirectUri],
        notify_uri: 'https://solar.example/n',
        scope: 'FB=1_4_5;IntervalDuration=3600',
      },
    })
    clientId = party.body.client_id as string
    const login = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'alice', password: ALICE_BODY.password },
    })
    alice = login.body.token as string
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  /** Starts an authorization request and answers the first interaction page's status, with `session` as the account cookie. */
  const interactionWith = async (session: string, extra: Record<string, string> = {}) => {
    const verifier = randomBytes(32).toString('base64url')
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'FB=4_5',
      state: 'xyz',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    })
    const jar = new CookieJar()
    const started = await fetch(`${server.url}/oauth/auth?${query}`, { redirect: 'manual' })
    jar.take(started)
    const location = started.headers.get('location') ?? ''
    expect(location).toMatch(/^\/interaction\//)
    const page = await fetch(new URL(location, server.url), {
      redirect: 'manual',
      headers: { cookie: `${jar.header()}; custodian_account=${encodeURIComponent(session)}` },
    })
    return { status: page.status, text: await page.text() }
  }

  it('never: a customer signed in on the account pages goes on without a password (the control)', async () => {
    expect((await interactionWith(alice)).status).toBe(303)
  })

  it('to stand in for the fresh sign-in a third party asks for with prompt=login', async () => {
    const page = await interactionWith(alice, { prompt: 'login' })
    expect(page.status).toBe(200)
    expect(page.text).toContain('name="password"')
  })

  it('to an administrator who is not a customer, and to a cookie that is no live session', async () => {
    for (const session of [admin, `${alice}x`, 'forged']) {
      const page = await interactionWith(session)
      expect(page.status).toBe(200)
      expect(page.text).toContain('name="password"')
    }
  })
})
