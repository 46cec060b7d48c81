import { statSync } from 'node:fs'
import BetterSqlite3 from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { tempSqlite } from '../../test/support/temp-store.js'
import { until } from '../../test/support/wait.js'
import { checkpointInBackground } from './wal-checkpointer.js'

describe('checkpoints in the background', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('leave the serving connection out of checkpoints, and copy its log into the database from a worker', async () => {
    const sqlite = new BetterSqlite3(temp.target)
    sqlite.pragma('journal_mode = WAL')
    sqlite.exec('create table t (v text)')
    const errors: Error[] = []
    const stop = checkpointInBackground(sqlite, temp.target, (error) => errors.push(error))
    try {
      expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0)
      const before = statSync(temp.target).size
      // About 2,000 pages of log, more than one automatic checkpoint's worth.
      const insert = sqlite.prepare('insert into t values (?)')
      sqlite.transaction(() => {
        for (let i = 0; i < 2_000; i++) insert.run('x'.repeat(4_000))
      })()
      await until(
        'the worker to copy the log into the database',
        () => statSync(temp.target).size > before + 4_000_000,
      )
      expect(errors).toEqual([])
    } finally {
      await stop()
    }
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000)
    sqlite.close()
  })
})
