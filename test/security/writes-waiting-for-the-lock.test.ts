import { expect, it } from 'vitest'
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
