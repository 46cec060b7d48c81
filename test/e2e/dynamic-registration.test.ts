import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEspi } from '../../src/greenbutton/espi-reader.js'
import { cliOn } from '../support/cli.js'
import { ALICE_BODY } from '../support/customers.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, discoverAs } from '../support/third-party.js'
import { validateGreenButton } from '../support/xmllint.js'

/**
 * A third party the utility never registered by hand: it registers itself with an initial access token
 * (RFC 7591, openid-client's dynamic registration), gets customers' consent like any third party, changes
 * its redirect URI (RFC 7592), and is refused everywhere once it deletes its registration.
 */
describe('dynamic registration of a third party (RFC 7591, 7592)', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  const first = 'https://solar.example/callback'
  const moved = 'https://solar.example/oauth/back'
  const scope = 'FB=4_5;IntervalDuration=3600'
  const metadata = {
    client_name: 'Sunny Side Solar',
    redirect_uris: [first],
    scope: 'FB=1_4_5_15;IntervalDuration=900_3600;BlockDuration=monthly;HistoryLength=13',
    thirdPartyNotifyUri: 'https://solar.example/notify',
    thirdPartyApplicationDescription: 'Sizes solar panels to your usage',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
  }
  let registered: Record<string, unknown>
  let clientId: string
  let clientSecret: string
  let config: client.Configuration

  const consentAt = async (redirectUri: string) => {
    const flow = await authorizationRequest(config, redirectUri, scope)
    const { callback } = await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: 'alice',
      password: 'alice password',
    })
    return client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
    })
  }
  const espi = async (path: string, token: string) => {
    const response = await fetch(`${server.url}/espi/1_1/resource${path}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    const xml = await response.text()
    return { status: response.status, xml }
  }
  const manage = (method: string, token: string, body?: unknown) =>
    fetch(registered.registration_client_uri as string, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'Rabbit Hole Lane', kind: 'electricity' },
    })
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  it('registers itself with the initial access token the utility issued (openid-client)', async () => {
    const issued = await call(server.url, 'POST', '/v1/third-parties/registration-tokens', {
      token: admin,
      body: { valid_for: '2d' },
    })
    expect(issued.status).toBe(201)
    expect(issued.headers.get('cache-control')).toBe('no-store')
    expect(issued.body).toMatchObject({
      id: expect.stringMatching(/^iat_[0-9a-f]{12}$/),
      registration_endpoint: `${server.url}/oauth/reg`,
    })
    const expires = Date.parse(issued.body.expires_at as string) - Date.now()
    expect(expires).toBeGreaterThan(47 * 3_600_000)
    expect(expires).toBeLessThanOrEqual(48 * 3_600_000)

    const registration = await client.dynamicClientRegistration(
      new URL(`${server.url}/oauth`),
      metadata,
      undefined,
      {
        initialAccessToken: issued.body.initial_access_token as string,
        execute: [client.allowInsecureRequests],
        algorithm: 'oauth2',
      },
    )
    expect(registration.serverMetadata().registration_endpoint).toBe(`${server.url}/oauth/reg`)
    registered = registration.clientMetadata() as Record<string, unknown>
    clientId = registered.client_id as string
    clientSecret = registered.client_secret as string
    expect(clientId).toMatch(/^tp_/)
    expect(registered).toMatchObject({
      client_name: 'Sunny Side Solar',
      redirect_uris: [first],
      scope: metadata.scope,
      thirdPartyNotifyUri: metadata.thirdPartyNotifyUri,
      client_secret_expires_at: 0,
      registration_client_uri: `${server.url}/oauth/reg/${clientId}`,
      registration_access_token: expect.stringMatching(/^[\w-]{43}$/),
    })
    // A third party like one an administrator registers: in the public list, in good standing.
    const list = await call(server.url, 'GET', '/v1/third-parties')
    expect(list.body.items).toContainEqual(
      expect.objectContaining({ client_id: clientId, standing: 'active' }),
    )
    // The token registered one third party: it is spent.
    const again = await call(server.url, 'POST', '/oauth/reg', {
      token: issued.body.initial_access_token as string,
      body: { ...metadata, client_name: 'Sunny Side Solar Two' },
    })
    expect(again.status).toBe(401)
    expect(again.body.error).toBe('invalid_token')
  })

  it('completes the consent flow with openid-client, and its ApplicationInformation is its registration', async () => {
    config = await discoverAs(server.url, clientId, clientSecret)
    const tokens = await consentAt(first)
    expect(tokens.scope).toBe(scope)
    expect((await espi('/Authorization', tokens.access_token)).status).toBe(200)

    const own = (await client.clientCredentialsGrant(config, { scope: 'FB=4' })).access_token
    const app = await espi(`/ApplicationInformation/${clientId}`, own)
    expect(app.status).toBe(200)
    expect((await validateGreenButton(app.xml)).errors).toBe('')
    const [entry] = (await readEspi([app.xml])).entries
    expect(entry?.title).toBe('Sunny Side Solar')
    expect(app.xml).toContain(`<redirect_uri>${first}</redirect_uri>`)
    expect(app.xml).toContain(`<scope>${metadata.scope}</scope>`)
    expect(app.xml).toContain('<thirdPartyApplicationDescription>Sizes solar panels to your usage<')
  })

  it('reads and changes its registration (RFC 7592): a new redirect URI, and a rotated token', async () => {
    const read = await manage('GET', registered.registration_access_token as string)
    expect(read.status).toBe(200)
    const current = (await read.json()) as Record<string, unknown>
    expect(current).toMatchObject({ client_id: clientId, redirect_uris: [first] })
    expect(current.client_secret).toBeUndefined() // kept as a hash only

    const { registration_access_token, registration_client_uri, client_id_issued_at, ...rest } = current
    const updated = await manage('PUT', registration_access_token as string, {
      ...rest,
      client_secret: clientSecret,
      redirect_uris: [moved],
    })
    expect(updated.status).toBe(200)
    const now = (await updated.json()) as Record<string, unknown>
    expect(now.redirect_uris).toEqual([moved])
    expect(now.registration_access_token).not.toBe(registration_access_token)
    expect((await manage('GET', registration_access_token as string)).status).toBe(401)
    registered = { ...registered, ...now }

    // The consent flow goes to the new redirect URI; the old one is refused.
    const tokens = await consentAt(moved)
    expect((await espi('/Authorization', tokens.access_token)).status).toBe(200)
    await expect(consentAt(first)).rejects.toThrow(/redirect_uri/)
    const own = (await client.clientCredentialsGrant(config, { scope: 'FB=4' })).access_token
    const app = await espi(`/ApplicationInformation/${clientId}`, own)
    expect(app.xml).toContain(`<redirect_uri>${moved}</redirect_uri>`)
    expect(app.xml).not.toContain(first)
  })

  it('is refused everywhere once it deleted its registration', async () => {
    const tokens = await consentAt(moved)
    const deleted = await manage('DELETE', registered.registration_access_token as string)
    expect(deleted.status).toBe(204)

    expect((await espi('/Authorization', tokens.access_token)).status).toBe(401)
    // The token endpoint no longer knows the client: neither its own token nor a refresh.
    const grants: Record<string, string>[] = [
      { grant_type: 'client_credentials', scope: 'FB=4' },
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
    ]
    for (const grant of grants) {
      const refused = await fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams(grant).toString(),
      })
      expect(refused.status, grant.grant_type).toBe(401)
      expect(((await refused.json()) as { error: string }).error).toBe('invalid_client')
    }
    await expect(consentAt(moved)).rejects.toThrow(/HTTP 400/)
    expect((await manage('GET', registered.registration_access_token as string)).status).toBe(401)
    const list = await call(server.url, 'GET', '/v1/third-parties')
    expect(list.body.items).not.toContainEqual(expect.objectContaining({ client_id: clientId }))
  })

  it('keeps who did what in the audit log, refusals too', async () => {
    const audit = await call(server.url, 'GET', '/v1/audit?limit=1000', { token: admin })
    const mine = (audit.body.items as { actor: string; action: string; outcome: string }[])
      .filter((r) => r.action.startsWith('third_party.'))
      .map((r) => [r.actor, r.action, r.outcome])
    // Changes and other records are written in batches of their own: compare them without their order.
    const done = mine.filter(([, , outcome]) => outcome === 'ok')
    expect(done).toHaveLength(4)
    expect(done).toEqual(
      expect.arrayContaining([
        ['admin', 'third_party.registration_token', 'ok'],
        [clientId, 'third_party.register', 'ok'],
        [clientId, 'third_party.update', 'ok'],
        [clientId, 'third_party.deregister', 'ok'],
      ]),
    )
    expect(mine).toContainEqual(['anonymous', 'third_party.register', 'invalid_token'])
    expect(mine).toContainEqual(['anonymous', 'third_party.read', 'invalid_token'])
  })

  it('issues initial access tokens on the command line too', () => {
    const cli = cliOn(temp)
    const issued = cli.run('issue_registration_token', '12h', '--token', admin)
    expect(issued.stderr).toBe('')
    expect(issued.stdout).toMatch(/^initial access token iat_[0-9a-f]{12} \(shown once; .*\): [\w-]{43}\n$/)
    const wrong = cli.run('issue_registration_token', '1y', '--token', admin)
    expect(wrong.status).toBe(1)
    expect(wrong.stderr).toContain('valid_for "1y" must be <n>h or <n>d, at most 90d')
  })
})
