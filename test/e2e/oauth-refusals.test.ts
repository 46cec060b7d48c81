import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, registerSolarSavings } from '../support/third-party.js'

describe('what the ESPI authorization server refuses', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let config: client.Configuration
  let clientId: string
  const redirectUri = 'https://solar.example/callback'

  const authorizationUrl = (options: { scope?: string; redirect?: string } = {}) =>
    authorizationRequest(config, options.redirect ?? redirectUri, options.scope ?? 'FB=4_5')

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    await call(server.url, 'POST', '/v1/customers', {
      token: admin,
      body: {
        username: 'bob',
        name: 'Bob',
        email: 'bob@example.org',
        account_number: 'B-1',
        password: 'bob password',
      },
    })
    await call(server.url, 'POST', '/v1/customers/bob/usage-points', {
      token: admin,
      body: { description: 'Meter', kind: 'gas' },
    })
    ;({ clientId, config } = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: 'https://solar.example/n',
      scope: 'FB=1_4_5;IntervalDuration=3600',
    }))
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  it('refuses a redirect URI that does not match exactly, without redirecting', async () => {
    for (const wrong of [`${redirectUri}/x`, `${redirectUri}?a=1`, redirectUri.toUpperCase()]) {
      const { url } = await authorizationUrl({ redirect: wrong })
      const response = await fetch(url, { redirect: 'manual' })
      expect(response.status, wrong).toBe(400)
      expect(response.headers.get('location')).toBeNull()
      expect(await response.text()).toContain('invalid_redirect_uri')
    }
  })

  it('answers invalid_scope naming the problem for a malformed scope and one beyond the allowance', async () => {
    for (const [scope, description] of [
      [
        'FB=4;IntervalDuration=abc',
        'malformed ESPI scope "FB=4;IntervalDuration=abc": IntervalDuration=abc: interval durations are seconds',
      ],
      [
        'FB=4_16',
        'scope "FB=4_16" is beyond what Solar Savings may ask for: function block(s) 16 are not among those allowed',
      ],
      ['openid', 'malformed ESPI scope "openid"'],
    ]) {
      const { url } = await authorizationUrl({ scope })
      const response = await fetch(url, { redirect: 'manual' })
      const location = new URL(response.headers.get('location') as string)
      expect(location.origin + location.pathname).toBe(redirectUri)
      expect(location.searchParams.get('error')).toBe('invalid_scope')
      expect(location.searchParams.get('error_description')).toContain(description)
    }
  })

  it('refuses a reused code, and revokes the tokens the first use gave', async () => {
    const flow = await authorizationUrl()
    const { callback } = await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: 'bob',
      password: 'bob password',
    })
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
    })
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true)
    await expect(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
      }),
    ).rejects.toMatchObject({ error: 'invalid_grant' })
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false)
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
  })

  it('lets a customer deny, and the third party hears access_denied', async () => {
    const flow = await authorizationUrl()
    const { callback } = await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: 'bob',
      password: 'bob password',
      decision: 'deny',
    })
    expect(callback.searchParams.get('error')).toBe('access_denied')
  })

  it('refuses a suspended third party at the authorization and token endpoints, and reports its tokens inactive', async () => {
    const tokens = await client.clientCredentialsGrant(config, { scope: 'FB=4' })
    await call(server.url, 'PUT', `/v1/third-parties/${clientId}/standing`, {
      token: admin,
      body: { standing: 'suspended' },
    })
    const { url } = await authorizationUrl()
    const page = await fetch(url, { redirect: 'manual' })
    expect(page.status).toBe(400)
    expect(await page.text()).toContain('invalid_client')
    await expect(client.clientCredentialsGrant(config, { scope: 'FB=4' })).rejects.toThrow()
    const introspected = await fetch(`${server.url}/oauth/token/introspection`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:x`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: tokens.access_token }),
    })
    expect(introspected.status).toBe(401) // the suspended client cannot even authenticate
    await call(server.url, 'PUT', `/v1/third-parties/${clientId}/standing`, {
      token: admin,
      body: { standing: 'active' },
    })
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true)
  })
})
