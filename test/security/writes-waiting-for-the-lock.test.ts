import { expect, it } from 'vitest'
import { LOCK_WAIT_MS } from '../../src/store/dialects.js'
import { WRITE_LOCK_KEY } from '../../src/store/store.js'
import { auditEntry } from '../store/conformance/backends.js'
import { postgresStoreBesideAHolder } from '../support/other-writer.js'
import { within } from '../support/wait.js'

// How much can requests that write take from the checks? On PostgreSQL every write waits for the store's
// write lock, which another process's bulk import holds for minutes. Each waiting write used to hold one of
// the node's ten pooled connections: a dozen logins (any user's) during an import took them all, and every
// check then waited for the import too, its audit record finding no connection (33 s in
// bench/checks-during-import.bench.js). A node's writes now wait their turn without one (store/one-writer.ts).

const beside = postgresStoreBesideAHolder()

it("appends decisions' records while more of this node's writes wait for the lock than its pool holds", async () => {
  await beside.holder.query('begin')
  await beside.holder.query('select pg_advisory_xact_lock($1)', [WRITE_LOCK_KEY])
  const head = (await beside.store.changesSince(0)).at(-1)?.revision ?? 0
  const writes = Array.from({ length: 12 }, (_, i) =>
    beside.store.write(head, () => ({
      changes: [{ tbl: 'users', op: 'put', row: { id: `waiting${i}`, name: 'Waiting' } }],
      audit: [],
      result: null,
    })),
  )
  await within(
    10_000,
    "decisions' records behind a dozen waiting writes",
    beside.store.appendAudit([auditEntry('check:d')]),
  )
  await beside.holder.query('commit')
  const revisions = (await Promise.all(writes)).map((w) => w.revision)
  expect(revisions).toEqual(Array.from({ length: 12 }, (_, i) => head + i + 1))
})

// Nor may they pile up for as long as an import runs: a write gives up after LOCK_WAIT_MS (503, try again),
// as SQLite's does, its turn in the process counted, so writes queued behind one another give up together.
it('answers 503 to writes that waited LOCK_WAIT_MS for the lock, queued ones with the first', {
  timeout: 4 * LOCK_WAIT_MS,
}, async () => {
  await beside.holder.query('begin')
  await beside.holder.query('select pg_advisory_xact_lock($1)', [WRITE_LOCK_KEY])
  const head = (await beside.store.changesSince(0)).at(-1)?.revision ?? 0
  const started = Date.now()
  const outcomes = await Promise.all(
    Array.from({ length: 3 }, (_, i) =>
      beside.store
        .write(head, () => ({
          changes: [{ tbl: 'users', op: 'put', row: { id: `given-up${i}`, name: 'Given up' } }],
          audit: [],
          result: null,
        }))
        .then(
          () => 'written',
          (error) => ({ code: error.code, after: Date.now() - started, message: error.message }),
        ),
    ),
  )
  await beside.holder.query('commit')
  for (const outcome of outcomes) {
    expect(outcome).toMatchObject({ code: 'Unavailable', message: expect.stringContaining('write lock') })
    expect((outcome as { after: number }).after).toBeLessThan(LOCK_WAIT_MS + 5_000)
  }
  expect((await beside.store.loadSnapshot()).rows.users.map((u) => u.id)).not.toContain('given-up0')
  const after = await beside.store.write(head, () => ({ changes: [], audit: [], result: 'written' }))
  expect(after.result).toBe('written')
})
