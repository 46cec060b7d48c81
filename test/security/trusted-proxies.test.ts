import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningServer, startServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * Attack: a client sends its own X-Forwarded-For, a new address on each try, to escape the login lockout
 * kept per address; or X-Forwarded-Proto: https to pass for a TLS client. Only the proxies listed in
 * `--trust-proxy` are believed. The tests here come from 127.0.0.1: listed on one server, not on the other.
 */
describe('X-Forwarded-* headers, believed from listed proxies only', () => {
  const unlisted = tempSqlite()
  const listed = tempSqlite()
  let direct: RunningServer
  let proxied: RunningServer
  const settings = {
    CUSTODIAN_PUBLIC_URL: 'https://custodian.example',
    CUSTODIAN_LOGIN_MAX_FAILURES_USER: '2',
  }

  beforeAll(async () => {
    ;[direct, proxied] = await Promise.all([
      startServer(unlisted.target, { ...settings, CUSTODIAN_TRUST_PROXY: '10.0.0.0/8,192.0.2.7' }),
      startServer(listed.target, { ...settings, CUSTODIAN_TRUST_PROXY: '127.0.0.1' }),
    ])
  })
  afterAll(async () => {
    await Promise.all([direct.stop(), proxied.stop()])
    unlisted.remove()
    listed.remove()
  })

  /** A failed login of the administrator, from the client address `forwardedFor` claims: the status. */
  const failedLogin = async (server: RunningServer, forwardedFor: string) =>
    (
      await fetch(`${server.url}/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({ user: 'admin', password: 'not the password' }),
      })
    ).status

  const hsts = async (server: RunningServer, headers: Record<string, string>) =>
    (await fetch(`${server.url}/health`, { headers })).headers.get('strict-transport-security')

  it('counts the failed logins of a client that is not a listed proxy at its own address, whatever it forwards', async () => {
    expect(await failedLogin(direct, '203.0.113.1')).toBe(401)
    expect(await failedLogin(direct, '203.0.113.2')).toBe(401)
    expect(await failedLogin(direct, '203.0.113.3')).toBe(429)
  })

  it('counts them at the forwarded address when a listed proxy forwards them', async () => {
    expect(await failedLogin(proxied, '203.0.113.1')).toBe(401)
    expect(await failedLogin(proxied, '203.0.113.2')).toBe(401)
    expect(await failedLogin(proxied, '203.0.113.3')).toBe(401)
    expect(await failedLogin(proxied, '203.0.113.1')).toBe(401)
    expect(await failedLogin(proxied, '203.0.113.1')).toBe(429)
  })

  it("takes the scheme from a listed proxy's X-Forwarded-Proto only (HSTS is sent on https alone)", async () => {
    expect(await hsts(direct, { 'x-forwarded-proto': 'https' })).toBeNull()
    expect(await hsts(proxied, { 'x-forwarded-proto': 'https' })).toBe('max-age=31536000')
    expect(await hsts(proxied, {})).toBeNull()
  })
})
