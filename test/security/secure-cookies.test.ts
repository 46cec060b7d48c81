import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * Behind a TLS-terminating proxy, the public URL says https while the node itself listens on http: the
 * OAuth interaction and session cookies must still be Secure, or a network attacker on any plain-http page
 * of the same site could read the customer's interaction (and sign-in) cookies.
 */
describe('cookies under an https public URL', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let clientId: string
  const redirectUri = 'https://solar.example/callback'

  beforeAll(async () => {
    let admin: string
    ;({ server, admin } = await startWithAdmin(temp.target, {
      CUSTODIAN_PUBLIC_URL: 'https://custodian.example',
    }))
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
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  it('sets every cookie of the authorization request with Secure', async () => {
    const verifier = randomBytes(32).toString('base64url')
    const query = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'FB=4_5',
      state: 'xyz',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    })
    // A client may send its own X-Forwarded-Proto: the public URL decides, not the client.
    const response = await fetch(`${server.url}/oauth/auth?${query}`, {
      redirect: 'manual',
      headers: { 'x-forwarded-proto': 'http' },
    })
    expect(response.status).toBe(303)
    const cookies = response.headers.getSetCookie()
    expect(cookies.map((c) => c.split('=')[0])).toEqual(
      expect.arrayContaining(['_interaction', '_interaction_resume']),
    )
    for (const cookie of cookies) expect(cookie.toLowerCase()).toContain('; secure')
  })

  it("sets the account pages' session cookie with Secure", async () => {
    const response = await fetch(`${server.url}/account/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: server.adminPassword ?? '' }),
    })
    expect(response.status).toBe(303)
    const cookies = response.headers.getSetCookie()
    expect(cookies).toHaveLength(1)
    expect(cookies[0]?.toLowerCase()).toContain('; secure')
  })
})
