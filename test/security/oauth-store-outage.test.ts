import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { ownPostgresCluster } from '../support/pg-cluster.js'
import { call, type RunningServer, startServer } from '../support/server.js'
import { authorizationRequest, registerSolarSavings } from '../support/third-party.js'
import { until } from '../support/wait.js'

const REDIRECT_URI = 'https://solar.example/callback'
const SCOPE = 'FB=1_3_4_5_15;IntervalDuration=900'

/**
 * The OAuth endpoints while the PostgreSQL store is away: the third party hears `temporarily_unavailable`
 * (RFC 6749 §4.1.2.1), on its redirect URI from the authorization endpoint and as a 503 from the token
 * endpoint, never a server error, and nothing of where the database is; once it is back, a customer's
 * consent goes through.
 */
describe('OAuth while the store is away', () => {
  let cluster: Awaited<ReturnType<typeof ownPostgresCluster>>
  let server: RunningServer
  let party: Awaited<ReturnType<typeof registerSolarSavings>>

  beforeAll(async () => {
    cluster = await ownPostgresCluster()
    server = await startServer(cluster.url, { CUSTODIAN_MAX_STALENESS: '3600' })
    const login = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'admin', password: server.adminPassword },
    })
    const admin = login.body.token as string
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'meter', kind: 'electricity', id: 'up_a' },
    })
    party = await registerSolarSavings(server.url, admin, {
      redirectUri: REDIRECT_URI,
      notifyUri: 'https://solar.example/notify',
      scope: SCOPE,
    })
  })
  afterAll(async () => {
    await server?.stop()
    cluster?.remove()
  })

  it('answers temporarily_unavailable, then serves the consent once the store is back', async () => {
    const flow = await authorizationRequest(party.config, REDIRECT_URI, SCOPE)
    cluster.stop()

    const authorization = await fetch(flow.url, { redirect: 'manual' })
    expect(authorization.status).toBe(303)
    const back = new URL(authorization.headers.get('location') ?? '')
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI)
    expect(back.searchParams.get('error')).toBe('temporarily_unavailable')
    expect(back.searchParams.get('state')).toBe(flow.state)

    const token = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${party.clientId}:${party.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
    })
    expect(token.status).toBe(503)
    const refusal = await token.text()
    expect(JSON.parse(refusal)).toMatchObject({ error: 'temporarily_unavailable' })

    const port = new URL(cluster.url).port
    // The redirect's `iss` is this server's own URL (RFC 9207): what it says of the failure is its description.
    for (const text of [back.searchParams.get('error_description') ?? '', refusal]) {
      expect(text).not.toContain(port)
      expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|postgres/i)
    }
    expect(server.output()).not.toMatch(/authorization server error/)

    cluster.start()
    // The pool's connections from before the restart fail once each: the customer may need to try again.
    const callback = await until('a consent once the store is back', async () => {
      const again = await authorizationRequest(party.config, REDIRECT_URI, SCOPE)
      const { callback } = await authorizeAsCustomer(server.url, again.url, REDIRECT_URI, {
        username: 'alice',
        password: 'alice password',
      }).catch(() => ({ callback: undefined }))
      return callback?.searchParams.has('code') ? { callback, again } : undefined
    })
    const tokens = await client.authorizationCodeGrant(party.config, callback.callback, {
      pkceCodeVerifier: callback.again.codeVerifier,
      expectedState: callback.again.state,
    })
    expect(tokens.access_token).toMatch(/\S{20,}/)
  })
})
