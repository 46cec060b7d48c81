import { spawnSync } from 'node:child_process'
import { hostname } from 'node:os'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { tempSqlite } from '../../test/support/temp-store.js'
import { openStore } from './store.js'

const DAY = Date.UTC(2026, 10, 20) / 1000
const AT = Date.UTC(2026, 10, 23)

/** A pid no process has any more: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid as number

/** What an import left in the store: its row and one staged block of two readings for `mr`. */
function leave(file: string, id: string, owner: string, state: 'staging' | 'publishing', mr: string) {
  const db = new Database(file)
  db.prepare(
    `insert into gb_imports (id, owner, state, heartbeat, at, committed, resources_changed, changed_readings, notices)
     values (?, ?, ?, ?, ?, ?, 0, 0, '[]')`,
  ).run(id, owner, state, Date.now(), AT, state === 'publishing' ? Date.now() : null)
  db.prepare(
    `insert into gb_staged_blocks (import_id, seq, meter_reading_id, start, duration, readings, changed)
     values (?, 0, ?, ?, 1800, ?, null)`,
  ).run(
    id,
    mr,
    DAY,
    JSON.stringify([
      [DAY, 900, 5, null, ''],
      [DAY + 900, 900, 6, null, '8'],
    ]),
  )
  db.close()
}

function count(file: string, query: string): number {
  const db = new Database(file, { readonly: true })
  const n = (db.prepare(query).get() as { n: number }).n
  db.close()
  return n
}

describe('imports left behind by a failure', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('are dropped if they never committed and published if they did, by the next process to open the store', async () => {
    await (await openStore(temp.target)).close()
    const gone = `${hostname()}:${deadPid()}`
    leave(temp.target, 'staged-only', gone, 'staging', 'mr-a')
    leave(temp.target, 'committed', gone, 'publishing', 'mr-b')

    const store = await openStore(temp.target)
    try {
      expect(await store.usage.readings('mr-a', 0, 2 ** 31, 10)).toEqual([])
      expect(await store.usage.readings('mr-b', 0, 2 ** 31, 10)).toEqual([
        { start: DAY, duration: 900, value: 5, cost: null, qualities: '' },
        { start: DAY + 900, duration: 900, value: 6, cost: null, qualities: '8' },
      ])
      expect(await store.usage.blocks({ meterReadingId: 'mr-b', from: 0, to: 2 ** 31, limit: 10 })).toEqual([
        { meter_reading_id: 'mr-b', start: DAY, duration: 1800, published: AT, updated: AT },
      ])
    } finally {
      await store.close()
    }
    expect(count(temp.target, 'select count(*) as n from gb_imports')).toBe(0)
    expect(count(temp.target, 'select count(*) as n from gb_staged_blocks')).toBe(0)
  })

  it("resume this process's own import when it is not working on it (its publication failed)", async () => {
    const store = await openStore(temp.target)
    try {
      leave(temp.target, 'own', `${hostname()}:${process.pid}`, 'publishing', 'mr-c')
      await store.usage.recoverImports()
      expect(await store.usage.readings('mr-c', 0, 2 ** 31, 10)).toHaveLength(2)
      expect(count(temp.target, 'select count(*) as n from gb_imports')).toBe(0)
    } finally {
      await store.close()
    }
  })

  it("leave a live process's import alone", async () => {
    const store = await openStore(temp.target)
    try {
      // This test process's parent: alive while it runs.
      leave(temp.target, 'theirs', `${hostname()}:${process.ppid}`, 'staging', 'mr-d')
      await store.usage.recoverImports()
      expect(count(temp.target, "select count(*) as n from gb_imports where id = 'theirs'")).toBe(1)
    } finally {
      await store.close()
    }
  })
})

describe('a serving process', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('announces itself to imports in other processes until it closes', async () => {
    const store = await openStore(temp.target)
    const key = `serving:${hostname()}:${process.pid}`
    await store.serving(() => {})
    expect(count(temp.target, `select count(*) as n from meta where key = '${key}'`)).toBe(1)
    await store.close()
    expect(count(temp.target, "select count(*) as n from meta where key like 'serving:%'")).toBe(0)
  })
})
