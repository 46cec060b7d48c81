import { request } from 'node:http'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

/**
 * Each usage data import holds its upload open, a staged publication and (XML) a parsing thread for as long
 * as its client keeps sending: without a bound, uploads started together (or held open) cost a thread and
 * its memory each. A server runs at most maxConcurrentImports at once; one more is refused with 503 and
 * Retry-After, naming the setting, and audited; the slot is free again once an import ends.
 */
const START = Date.UTC(2024, 0, 1) / 1000
const HEADER = 'usage_point,start,duration,value\n'
const row = (i: number) => `up_front,${START + i * 900},900,${i}\n`

describe('concurrent usage data imports', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target, { CUSTODIAN_MAX_CONCURRENT_IMPORTS: '1' }))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'front meter', kind: 'electricity', id: 'up_front' },
    })
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  /** Imports under way: each has a row in gb_imports until it ends. */
  const running = () => {
    const db = new Database(temp.target, { readonly: true })
    const { n } = db.prepare('select count(*) as n from gb_imports').get() as { n: number }
    db.close()
    return n
  }

  const upload = (name: string, body: string) =>
    fetch(`${server.url}/v1/usage-data?name=${name}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      body,
    })

  it('refuses one more than the limit with 503 and Retry-After, audited, and takes the next once one ends', async () => {
    // The first import's upload stays open: its client has more to send.
    const held = request(`${server.url}/v1/usage-data?name=held.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
    })
    const heldAnswer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      held.on('response', (response) => {
        let body = ''
        response.on('data', (chunk) => {
          body += chunk
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      })
      held.on('error', reject)
    })
    held.write(HEADER + row(0))

    try {
      // The held import has registered itself (a row of gb_imports while it runs): it is under way.
      await until('the held import to be under way', () => running() > 0)
      const refused = await upload('second.csv', HEADER + row(1))
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('5')
      const problem = (await refused.json()) as { code: string; detail: string }
      expect(problem.code).toBe('Unavailable')
      expect(problem.detail).toContain('maxConcurrentImports, --max-concurrent-imports')
      expect(problem.detail).toContain('second.csv')
    } finally {
      // Ended whatever happened above, so that the server can stop.
      held.end(row(2))
    }
    const first = await heldAnswer
    expect(first.status).toBe(200)
    expect(JSON.parse(first.body)).toMatchObject({ readings: 2 })
    expect(running()).toBe(0)

    const after = await upload('third.csv', HEADER + row(3))
    expect(after.status).toBe(200)

    const log = await call(server.url, 'GET', '/v1/audit?limit=1000', { token: admin })
    const audited = (log.body.items as { action: string; resource: string; outcome: string }[]).filter(
      (r) => r.action === 'greenbutton.import',
    )
    expect(audited).toContainEqual(
      expect.objectContaining({ resource: 'second.csv', outcome: 'Unavailable' }),
    )
    expect(audited).toContainEqual(expect.objectContaining({ resource: 'held.csv', outcome: 'ok' }))
  })
})
