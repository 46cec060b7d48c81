import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { call, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

const READINGS = 150_000
const START = Date.UTC(2018, 0, 1) / 1000

/** SIGTERM while a request is being answered: the request finishes, then the server exits cleanly. */
describe('stopping drains what is in flight', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('finishes an import in progress before it exits', async () => {
    const { server, admin } = await startWithAdmin(temp.target)
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'front meter', kind: 'electricity', id: 'up_front' },
    })
    const rows = Array.from({ length: READINGS }, (_, i) => `up_front,${START + i * 900},900,${i % 89}`)
    const answer = fetch(`${server.url}/v1/usage-data?name=drain.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      body: `usage_point,start,duration,value\n${rows.join('\n')}\n`,
    })
    const count = (query: string) => {
      const db = new Database(temp.target, { readonly: true })
      const n = (db.prepare(query).get() as { n: number }).n
      db.close()
      return n
    }
    // The import has staged some of its readings: it is under way.
    await until('the import to be writing', () => count('select count(*) as n from gb_staged_blocks') > 0)
    const stopped = server.stop()

    const response = await answer
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ readings: READINGS })
    expect(await stopped).toBe(0)
    expect(count('select count(*) as n from gb_readings')).toBe(READINGS)
  }, 60_000)
})
