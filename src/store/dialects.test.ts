import BetterSqlite3 from 'better-sqlite3'
import { type Kysely, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { storeBackends, tempSqlite } from '../../test/support/temp-store.js'
import { BUSY_MS, connect, lossableTransaction } from './dialects.js'
import type { Database } from './schema.js'

describe.each(storeBackends)('a lossable transaction on $name', ({ make }) => {
  it('commits without waiting for the disk, and every other transaction still waits for it', async () => {
    const temp = await make()
    const { db, sqlite } = connect(temp.target)
    // How the transaction in hand commits: SQLite's synchronous (1 NORMAL, 2 FULL) or PostgreSQL's setting.
    const durability = async (trx: Kysely<Database>) =>
      sqlite
        ? String(sqlite.pragma('synchronous', { simple: true }))
        : (await sql<{ v: string }>`select current_setting('synchronous_commit') as v`.execute(trx)).rows[0]
            ?.v
    try {
      await sql`create table t (v integer)`.execute(db)
      const inside = await lossableTransaction(db, sqlite, async (trx) => {
        await sql`insert into t values (1)`.execute(trx)
        return durability(trx)
      })
      expect(inside).toBe(sqlite ? '1' : 'off')
      expect(await db.transaction().execute(durability)).toBe(sqlite ? '2' : 'on')
      const rows = await sql<{ v: number }>`select v from t`.execute(db)
      expect(rows.rows.map((r) => Number(r.v))).toEqual([1])
    } finally {
      await db.destroy()
      await temp.remove()
    }
  })
})

describe("a statement outside a transaction on a SQLite node's connection", () => {
  it('waits for the write lock another connection holds, as BEGIN does, with the event loop free', async () => {
    const temp = tempSqlite()
    const { db } = connect(temp.target)
    // The node's audit appender is such a connection: it holds the lock through each commit's fsync.
    const other = new BetterSqlite3(temp.target)
    try {
      await sql`create table t (v integer)`.execute(db)
      other.exec('begin immediate')
      const insert = sql`insert into t values (1)`.execute(db)
      let ticks = 0
      const ticking = setInterval(() => ticks++, 1)
      // Released well past the time SQLite itself waits; a loop blocked inside SQLite would not tick meanwhile.
      const released = new Promise<void>((resolve) =>
        setTimeout(() => {
          other.exec('commit')
          resolve()
        }, 10 * BUSY_MS),
      )
      await insert
      clearInterval(ticking)
      await released
      expect(ticks).toBeGreaterThan(3)
      const rows = await sql<{ v: number }>`select v from t`.execute(db)
      expect(rows.rows.map((r) => Number(r.v))).toEqual([1])
    } finally {
      other.close()
      await db.destroy()
      temp.remove()
    }
  })
})
