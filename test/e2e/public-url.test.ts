import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * Everything a client is told comes from the one public URL, whatever name it reached the server by: the
 * OAuth metadata's issuer and endpoints share one origin (RFC 8414 §3.3), and so do the links in answers.
 */
describe('one public URL, whatever Host a request carries', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let origin: string
  let port: string

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    ;({ origin, port } = new URL(server.url))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    const point = await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'Rabbit Hole Lane', kind: 'electricity' },
    })
    const party = await call(server.url, 'POST', '/v1/third-parties', {
      token: admin,
      body: {
        name: 'Solar Savings',
        redirect_uris: ['https://solar.example/cb'],
        notify_uri: 'https://solar.example/notify',
        scope: 'FB=4_5;IntervalDuration=3600',
      },
    })
    const alice = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'alice', password: ALICE_BODY.password },
    })
    const granted = await call(server.url, 'POST', '/v1/me/authorizations', {
      token: alice.body.token as string,
      body: {
        client_id: party.body.client_id,
        usage_point_ids: [point.body.id],
        scope: 'FB=4;IntervalDuration=3600',
        period_end: '+90d',
      },
    })
    expect(granted.status, JSON.stringify(granted.body)).toBe(201)
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  /** GET with a Host header of the caller's choosing (fetch sends its own). */
  const getWithHost = (path: string, host: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${server.url}${path}`, { headers: { ...headers, host, 'x-forwarded-host': host } })
      req.on('response', (response) => {
        let text = ''
        response.on('data', (chunk) => {
          text += chunk
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
      })
      req.on('error', reject)
      req.end()
    })

  /** Every URL in the metadata: the issuer and each *_endpoint and *_uri. */
  const urlsOf = (metadata: Record<string, unknown>) =>
    Object.entries(metadata).filter(
      ([key, value]) => typeof value === 'string' && (key === 'issuer' || /_(endpoint|uri)$/.test(key)),
    )

  for (const name of ['localhost', '127.0.0.1']) {
    for (const path of [
      '/.well-known/oauth-authorization-server/oauth',
      '/oauth/.well-known/openid-configuration',
    ]) {
      it(`answers ${path} through ${name} with the issuer and every endpoint on the public URL`, async () => {
        const response = await fetch(`http://${name}:${port}${path}`)
        expect(response.status).toBe(200)
        const metadata = (await response.json()) as Record<string, unknown>
        expect(metadata.issuer).toBe(`${origin}/oauth`)
        const urls = urlsOf(metadata)
        expect(urls.length).toBeGreaterThan(4)
        for (const [key, value] of urls) expect(new URL(value as string).origin, key).toBe(origin)
      })
    }
  }

  it('ignores a Host header that names another server, in the metadata and in the links of answers', async () => {
    const host = 'attacker.example:8443'
    const discovered = await getWithHost('/.well-known/oauth-authorization-server/oauth', host)
    const metadata = JSON.parse(discovered.text) as Record<string, unknown>
    for (const [key, value] of urlsOf(metadata)) expect(new URL(value as string).origin, key).toBe(origin)

    const listed = await getWithHost('/v1/authorizations', host, { authorization: `Bearer ${admin}` })
    const { text } = listed
    expect(listed.status, text).toBe(200)
    const [item] = (JSON.parse(text) as { items: Record<string, string>[] }).items
    expect(item?.authorizationURI).toContain(`${origin}/espi/1_1/resource/Authorization/au_`)
    expect(item?.resourceURI).toContain(`${origin}/espi/1_1/resource/Batch/Subscription/`)
    expect(text).not.toContain('attacker.example')
  })
})
