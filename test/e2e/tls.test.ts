import { connect } from 'node:tls'
import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { type RunningServer, startServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest } from '../support/third-party.js'
import { localhostCertificate } from '../support/tls-certificate.js'

/**
 * `serve --tls-cert --tls-key`: HTTPS with a certificate the test makes, TLS 1.2 or later, HSTS, and every
 * URL a client is told on https. openid-client, a certified relying party, runs the ESPI code flow over it
 * without being allowed insecure requests.
 */
describe('serving over TLS', () => {
  const temp = tempSqlite()
  const certificate = localhostCertificate()
  const send = certificate.fetch
  let server: RunningServer
  let admin: string
  let config: client.Configuration
  const redirectUri = 'https://solar.example/callback'
  const scope = 'FB=4_5;IntervalDuration=3600'

  /** The TLS version a client limited to `version` agrees with the server, or the handshake's error. */
  const handshake = (version: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3') =>
    new Promise<string>((resolve) => {
      const { port } = new URL(server.url)
      const socket = connect({
        host: '127.0.0.1',
        port: Number(port),
        ca: certificate.ca,
        minVersion: 'TLSv1',
        maxVersion: version,
        // TLS 1.0 and 1.1 sign with SHA-1, which OpenSSL refuses above security level 0: allow it here, so
        // that the server is the one that says no.
        ciphers: 'DEFAULT@SECLEVEL=0',
      })
      socket.once('secureConnect', () => {
        resolve(socket.getProtocol() ?? 'none')
        socket.end()
      })
      socket.once('error', (error) => resolve(`refused: ${error.message}`))
    })

  beforeAll(async () => {
    server = await startServer(temp.target, {
      CUSTODIAN_TLS_CERT: certificate.cert,
      CUSTODIAN_TLS_KEY: certificate.key,
    })
    const login = await send(`${server.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'admin', password: server.adminPassword }),
    })
    admin = ((await login.json()) as { token: string }).token
    const post = async (path: string, body: object) => {
      const response = await send(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
        body: JSON.stringify(body),
      })
      const answer = (await response.json()) as Record<string, string>
      expect(response.status, JSON.stringify(answer)).toBe(201)
      return answer
    }
    await post('/v1/customers', ALICE_BODY)
    await post('/v1/customers/alice/usage-points', { description: 'Rabbit Hole Lane', kind: 'electricity' })
    const party = await post('/v1/third-parties', {
      name: 'Solar Savings',
      redirect_uris: [redirectUri],
      notify_uri: 'https://solar.example/notify',
      scope: 'FB=1_4_5_15;IntervalDuration=900_3600',
    })
    const secret = party.client_secret as string
    config = await client.discovery(
      new URL(`${server.url}/oauth`),
      party.client_id as string,
      secret,
      client.ClientSecretBasic(secret),
      { [client.customFetch]: send, algorithm: 'oauth2' },
    )
  })
  afterAll(async () => {
    await server.stop()
    await certificate.remove()
    temp.remove()
  })

  it('serves https on the port it names, and plain http there is refused', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    await expect(fetch(server.url.replace('https:', 'http:'))).rejects.toThrow()
    // Without the test's authority, the certificate is not trusted: the server really is on TLS.
    await expect(fetch(`${server.url}/health`)).rejects.toThrow()
  })

  it('speaks TLS 1.2 and 1.3, never 1.1', async () => {
    expect(await handshake('TLSv1.3')).toBe('TLSv1.3')
    expect(await handshake('TLSv1.2')).toBe('TLSv1.2')
    expect(await handshake('TLSv1.1')).toMatch(/^refused: /)
  })

  it('sends HSTS, on its own routes and on those of the authorization server', async () => {
    for (const path of ['/health', '/oauth/.well-known/openid-configuration', '/v1/third-parties']) {
      const response = await send(`${server.url}${path}`)
      expect(response.headers.get('strict-transport-security'), path).toBe('max-age=31536000')
    }
  })

  it('describes itself on https (RFC 8414), every endpoint on the one origin', () => {
    const metadata = config.serverMetadata()
    expect(metadata.issuer).toBe(`${server.url}/oauth`)
    for (const [key, value] of Object.entries(metadata))
      if (typeof value === 'string' && /_(endpoint|uri)$/.test(key))
        expect(new URL(value).origin, key).toBe(server.url)
  })

  it('runs the code flow over https: Secure cookies, https links in the ESPI answers', async () => {
    const flow = await authorizationRequest(config, redirectUri, scope)
    const first = await send(flow.url, { redirect: 'manual' })
    expect(first.status).toBe(303)
    const cookies = first.headers.getSetCookie()
    expect(cookies.length).toBeGreaterThan(0)
    for (const cookie of cookies) expect(cookie.toLowerCase()).toContain('; secure')

    const { callback } = await authorizeAsCustomer(
      server.url,
      flow.url,
      redirectUri,
      { username: 'alice', password: ALICE_BODY.password },
      send,
    )
    expect(callback.searchParams.get('iss')).toBe(`${server.url}/oauth`)
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
    })
    expect(tokens.scope).toBe(scope)
    const info = await client.tokenIntrospection(config, tokens.access_token)
    expect(info.active).toBe(true)

    const feed = await client.fetchProtectedResource(
      config,
      tokens.access_token,
      new URL(`${server.url}/espi/1_1/resource/Authorization`),
      'GET',
    )
    const xml = await feed.text()
    expect(feed.status, xml).toBe(200)
    const links = [...xml.matchAll(/(?:href="|URI>)(https?:\/\/[^"<]+)/g)].map((m) => m[1] as string)
    expect(links.length).toBeGreaterThan(2)
    for (const link of links) expect(link.startsWith(`${server.url}/`), link).toBe(true)
  })

  it('tells the administrator https links too', async () => {
    const listed = await send(`${server.url}/v1/authorizations`, {
      headers: { authorization: `Bearer ${admin}` },
    })
    const { items } = (await listed.json()) as { items: { authorizationURI: string }[] }
    expect(items.length).toBeGreaterThan(0)
    for (const item of items) expect(item.authorizationURI).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/espi\//)
  })
})
