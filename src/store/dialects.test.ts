import { type Kysely, sql } from 'kysely'
import { describe, expect, it } from 'vitest'
import { storeBackends } from '../../test/support/temp-store.js'
import { connect, lossableTransaction } from './dialects.js'
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
