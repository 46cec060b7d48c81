import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type RunningServer, startServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const METRICS_TOKEN = 'scraper-secret-for-the-test'

/** The value of one series in a Prometheus text exposition, or undefined if absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** `custodian serve` scraped as Prometheus would, after a few decisions and logins. */
describe('GET /metrics', () => {
  const temp = tempSqlite()
  let server: RunningServer

  beforeAll(async () => {
    server = await startServer(temp.target, { CUSTODIAN_METRICS_TOKEN: METRICS_TOKEN })
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  const scrape = async () => {
    const response = await fetch(`${server.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/plain')
    return response.text()
  }

  it('counts decisions by kind and outcome, with their latency, and logins', async () => {
    const login = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'admin', password: server.adminPassword },
    })
    expect(login.status).toBe(201)
    const admin = login.body.token as string
    const wrong = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'admin', password: 'not the password' },
    })
    expect(wrong.status).toBe(401)
    // sam holds nothing: his checks are denied.
    await call(server.url, 'POST', '/v1/users', { token: admin, body: { id: 'sam', name: 'Sam' } })
    await call(server.url, 'PUT', '/v1/users/sam/credentials/password', {
      token: admin,
      body: { value: 'sams password' },
    })
    const sam = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'sam', password: 'sams password' },
    })
    expect(sam.status).toBe(201)
    const before = await scrape()
    expect(sample(before, 'custodian_decisions_total{kind="entitlement",outcome="allowed"}')).toBe(0)

    const check = (token: string, permission: string) =>
      call(server.url, 'POST', '/v1/check', { token, body: { permission, resource: 'house1' } })
    for (let i = 0; i < 3; i++) expect((await check(admin, 'admin')).status).toBe(200)
    expect((await check(sam.body.token as string, 'admin')).status).toBe(403)
    expect((await check('not-a-token', 'admin')).status).toBe(401)

    const text = await scrape()
    const decisions = (outcome: string) =>
      sample(text, `custodian_decisions_total{kind="entitlement",outcome="${outcome}"}`)
    expect(decisions('allowed')).toBe(3)
    expect(decisions('denied')).toBe(1)
    expect(decisions('invalid_token')).toBe(1)
    expect(sample(text, 'custodian_decision_duration_seconds_count{kind="entitlement"}')).toBe(5)
    expect(sample(text, 'custodian_decision_duration_seconds_bucket{le="+Inf",kind="entitlement"}')).toBe(5)
    expect(sample(text, 'custodian_decisions_total{kind="licence",outcome="allowed"}')).toBe(0)
    expect(sample(text, 'custodian_logins_total{method="password",outcome="ok"}')).toBe(2)
    expect(sample(text, 'custodian_logins_total{method="password",outcome="failed"}')).toBe(1)
  })

  it('reports the change-log revision and lag, the outbox and the requests answered', async () => {
    const health = await call(server.url, 'GET', '/health')
    const text = await scrape()
    expect(sample(text, 'custodian_revision')).toBeGreaterThanOrEqual(health.body.revision as number)
    expect(sample(text, 'custodian_change_log_lag_revisions')).toBe(0)
    expect(sample(text, 'custodian_staleness_seconds')).toBeLessThan(5)
    expect(sample(text, 'custodian_outbox_messages{state="parked"}')).toBe(0)
    expect(text).toMatch(
      /^custodian_http_request_duration_seconds_count\{method="POST",route="\/v1\/check",status="200"\} 3$/m,
    )
    expect(text).toMatch(/^custodian_process_resident_memory_bytes \d+/m)
  })
})
