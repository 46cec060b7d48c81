import BetterSqlite3 from 'better-sqlite3'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openStore, type Store } from '../../src/store/store.js'
import { tempSqlite } from '../support/temp-store.js'
import { within } from '../support/wait.js'

// On SQLite another connection may hold the write lock for minutes (`custodian import entitlements` is one
// write). A serving node must keep reading meanwhile: an outbox poll that finds nothing due takes no lock, and
// the change log is read on a connection of its own, not queued behind a write waiting for the lock (the
// node would go stale and answer 503). The waiting write itself leaves the event loop free.

const temp = tempSqlite()
let store: Store
let holder: BetterSqlite3.Database
beforeAll(async () => {
  store = await openStore(temp.target)
  await store.serving(() => {})
  holder = new BetterSqlite3(temp.target)
})
afterAll(async () => {
  if (holder.inTransaction) holder.exec('rollback')
  holder.close()
  await store.close()
  temp.remove()
})

it('polls the outbox and reads the change log while a write waits for a lock held elsewhere', async () => {
  holder.exec('begin immediate')
  const now = new Date().toISOString()
  expect(await within(2_000, 'an empty outbox poll', store.claimOutbox(now, now, 10))).toEqual([])
  let written = false
  const write = store
    .write(0, () => ({
      changes: [{ tbl: 'users', op: 'put', row: { id: 'waiting', name: 'Waiting' } }],
      audit: [],
      result: null,
    }))
    .then(() => {
      written = true
    })
  expect(await within(2_000, 'a read of the change log', store.changesSince(0))).toEqual([])
  // Timers keep firing while the write waits (it must not wait inside SQLite, on this thread): turns of 5 ms.
  for (let turn = 0; turn < 10; turn++) {
    const started = performance.now()
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(performance.now() - started).toBeLessThan(250)
  }
  expect(written).toBe(false)
  holder.exec('commit')
  await write
  expect((await store.changesSince(0)).map((c) => c.row)).toEqual([{ id: 'waiting', name: 'Waiting' }])
})
