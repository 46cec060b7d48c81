import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE, ALICE_BODY } from '../support/customers.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, registerSolarSavings } from '../support/third-party.js'

/**
 * rotate_client_secret: the third party gets a new client secret, answered once and never again; the old one
 * is refused at the token endpoint from that moment, and the new one is accepted there.
 */
describe('rotating a third party’s client secret', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let party: Awaited<ReturnType<typeof registerSolarSavings>>
  const redirectUri = 'https://solar.example/callback'
  const scope = 'FB=1_4_5;IntervalDuration=3600'

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'Meter', kind: 'electricity' },
    })
    party = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: 'https://solar.example/notify',
      scope,
    })
  })
  afterAll(async () => {
    await server?.stop()
    temp.remove()
  })

  /** The token endpoint's answer to exchanging `code`, the client authenticated with `secret` (Basic). */
  const exchange = async (code: string, verifier: string, secret: string) => {
    const response = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${party.clientId}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
      }),
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }

  it('refuses the old secret at the token endpoint at once, and accepts the new one', async () => {
    const flow = await authorizationRequest(party.config, redirectUri, scope)
    const { callback } = await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: ALICE.username,
      password: ALICE.password,
    })
    const code = callback.searchParams.get('code') as string
    expect(code).toBeTruthy()

    const rotated = await call(server.url, 'POST', `/v1/third-parties/${party.clientId}/secret`, {
      token: admin,
    })
    expect(rotated.status).toBe(200)
    expect(rotated.headers.get('cache-control')).toBe('no-store')
    const secret = rotated.body.client_secret as string
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(secret).not.toBe(party.clientSecret)

    const old = await exchange(code, flow.codeVerifier, party.clientSecret)
    expect(old).toMatchObject({ status: 401, body: { error: 'invalid_client' } })
    // The code was not spent by the refused client: the new secret redeems it.
    const fresh = await exchange(code, flow.codeVerifier, secret)
    expect(fresh.status).toBe(200)
    expect(fresh.body.access_token).toEqual(expect.any(String))
  })

  it('keeps only the hash: no later answer holds the secret', async () => {
    const listed = await call(server.url, 'GET', '/v1/third-parties')
    expect(JSON.stringify(listed.body)).not.toMatch(/secret/)
  })

  it('is for administrators only, audited, and refused for an unknown third party', async () => {
    const someone = await userWithSession(server.url, admin, 'someone')
    const refused = await call(server.url, 'POST', `/v1/third-parties/${party.clientId}/secret`, {
      token: someone,
    })
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toMatch(/needs the third_party_admin permission \(or admin\)/)
    const unknown = await call(server.url, 'POST', '/v1/third-parties/tp_nobody/secret', { token: admin })
    expect(unknown).toMatchObject({
      status: 404,
      body: { detail: 'third party tp_nobody is not registered' },
    })
    const audit = await call(server.url, 'GET', '/v1/audit?limit=1000', { token: admin })
    const records = (audit.body.items as { action: string; actor: string; outcome: string }[]).filter(
      (r) => r.action === 'third_party.rotate_secret',
    )
    expect(records.map((r) => [r.actor, r.outcome])).toEqual([
      ['admin', 'ok'],
      ['someone', 'AccessDenied'],
      ['admin', 'NotFound'],
    ])
  })

  it('gives a revoked third party no new secret', async () => {
    await call(server.url, 'PUT', `/v1/third-parties/${party.clientId}/standing`, {
      token: admin,
      body: { standing: 'revoked' },
    })
    const refused = await call(server.url, 'POST', `/v1/third-parties/${party.clientId}/secret`, {
      token: admin,
    })
    expect(refused).toMatchObject({
      status: 409,
      body: { detail: `third party ${party.clientId} is revoked: it gets no new secret` },
    })
  })
})
