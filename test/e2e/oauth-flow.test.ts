import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEspi } from '../../src/greenbutton/espi-reader.js'
import { ALICE_BODY } from '../support/customers.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, registerSolarSavings } from '../support/third-party.js'
import { validateGreenButton } from '../support/xmllint.js'

/** A Green Button Connect My Data third party, as openid-client (a certified client) drives it. */
describe('the ESPI authorization server, with openid-client as the third party', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let config: client.Configuration
  let clientId: string
  const redirectUri = 'https://solar.example/callback'
  const scope = 'FB=4_5;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13'

  const start = () => authorizationRequest(config, redirectUri, scope)

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    await call(server.url, 'POST', '/v1/customers', {
      token: admin,
      body: ALICE_BODY,
    })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'Rabbit Hole Lane', kind: 'electricity' },
    })
    ;({ clientId, config } = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: 'https://solar.example/notify',
      scope: 'FB=1_4_5_15;IntervalDuration=900_3600;BlockDuration=monthly;HistoryLength=24',
    }))
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  it('discovers the server (RFC 8414) with PKCE S256 and the grants it offers', () => {
    const meta = config.serverMetadata()
    expect(meta.issuer).toBe(`${server.url}/oauth`)
    expect(meta.code_challenge_methods_supported).toEqual(['S256'])
    expect(meta.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'refresh_token', 'client_credentials']),
    )
    expect(meta.revocation_endpoint).toBe(`${server.url}/oauth/token/revocation`)
    expect(meta.introspection_endpoint).toBe(`${server.url}/oauth/token/introspection`)
  })

  it('runs the code flow with PKCE: the customer logs in and consents, the tokens name the Authorization', async () => {
    const flow = await start()
    const { callback, pages } = await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: 'alice',
      password: 'alice password',
    })
    expect(pages[1]).toContain('Solar Savings')
    expect(pages[1]).toContain('in good standing')
    expect(pages[1]).toContain(scope)
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
    })
    expect(tokens.token_type.toLowerCase()).toBe('bearer')
    expect(tokens.scope).toBe(scope)
    expect(tokens.refresh_token).toMatch(/^[\w-]{43,}$/)

    const info = await client.tokenIntrospection(config, tokens.access_token)
    expect(info.active).toBe(true)
    const authorizationId = info.authorization_id as string
    expect(authorizationId).toMatch(/^au_/)
    // No personal information crosses: the subject is the customer's opaque id.
    expect(info.sub).toMatch(/^rc_/)
    expect(JSON.stringify({ tokens, info, callback: callback.href })).not.toMatch(
      /alice|Liddell|ACCT-0001|Rabbit/i,
    )
    const records = await call(server.url, 'GET', '/v1/authorizations', { token: admin })
    expect(records.body.items).toEqual([
      expect.objectContaining({ id: authorizationId, clientId, status: 'active' }),
    ])

    // Refresh rotates: the new refresh token works, the old one is refused.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string)
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    })

    // Revocation (RFC 7009) ends the token.
    const again = await start()
    const second = await authorizeAsCustomer(server.url, again.url, redirectUri, {
      username: 'alice',
      password: 'alice password',
    })
    const fresh = await client.authorizationCodeGrant(config, second.callback, {
      pkceCodeVerifier: again.codeVerifier,
      expectedState: again.state,
    })
    await client.tokenRevocation(config, fresh.access_token)
    expect((await client.tokenIntrospection(config, fresh.access_token)).active).toBe(false)
  })

  it('gives the third party a client_credentials token of its own', async () => {
    const tokens = await client.clientCredentialsGrant(config, { scope: 'FB=4' })
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true)
  })

  it('shows the third party its own Authorization resources, and nothing without a token', async () => {
    const flow = await start()
    const { callback } = await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: 'alice',
      password: 'alice password',
    })
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
    })
    const id = (await client.tokenIntrospection(config, tokens.access_token)).authorization_id as string
    const atom = async (path: string, token: string) => {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
      expect(response.headers.get('content-type')).toMatch(/^application\/atom\+xml/)
      const xml = await response.text()
      expect((await validateGreenButton(xml)).errors).toBe('')
      return { xml, entries: (await readEspi([xml])).entries }
    }
    const mine = await atom('/espi/1_1/resource/Authorization', tokens.access_token)
    expect(mine.entries).toEqual([
      expect.objectContaining({
        self: `${server.url}/espi/1_1/resource/Authorization/${id}`,
        content: expect.objectContaining({
          kind: 'Authorization',
          fields: expect.objectContaining({
            status: 1,
            scope,
            authorizationURI: `${server.url}/espi/1_1/resource/Authorization/${id}`,
          }),
        }),
      }),
    ])
    const bulk = (await client.clientCredentialsGrant(config, { scope: 'FB=4' })).access_token
    const all = await atom('/espi/1_1/resource/Authorization', bulk)
    expect(all.entries.length).toBe(3) // the three grants of this test file
    expect((await atom(`/espi/1_1/resource/Authorization/${id}`, bulk)).entries).toEqual([
      expect.objectContaining({ self: `${server.url}/espi/1_1/resource/Authorization/${id}` }),
    ])
    expect(all.xml).not.toMatch(/alice|Liddell|ACCT-0001|Rabbit/i)
    const none = await call(server.url, 'GET', '/espi/1_1/resource/Authorization')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="custodian", error="invalid_token"')
  })
})
