import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openStore, type Store, WRITE_LOCK_KEY } from '../../src/store/store.js'
import { tempPostgres } from '../support/temp-store.js'
import { within } from '../support/wait.js'
import { auditEntry, GENESIS_HASH, verifyAuditChain } from './conformance/backends.js'

// On PostgreSQL a write holds the write lock to its commit, and a bulk import is one write: a million users
// hold it for minutes. Decisions' records, appended alone, take only the audit log's lock, so they commit
// (and their checks are answered) meanwhile; a write still waits its turn, and the chain stays one.
// (SQLite has one write lock a file: there decisions wait for the import, as docs/import-entitlements.md says.)

let target = ''
let remove = async () => {}
let store: Store
let holder: pg.Client
beforeAll(async () => {
  ;({ target, remove } = await tempPostgres())
  store = await openStore(target)
  holder = new pg.Client({ connectionString: target })
  await holder.connect()
})
afterAll(async () => {
  await holder.end()
  await store.close()
  await remove()
})

it("appends decisions' records while another transaction holds the write lock; a write waits for it", async () => {
  await holder.query('begin')
  await holder.query('select pg_advisory_xact_lock($1)', [WRITE_LOCK_KEY])
  let written = false
  const write = store
    .write(0, () => ({
      changes: [{ tbl: 'users', op: 'put', row: { id: 'late', name: 'Late' } }],
      audit: [auditEntry('user.create')],
      result: null,
    }))
    .then(() => {
      written = true
    })

  await within(
    10_000,
    "decisions' records behind a held write lock",
    store.appendAudit([auditEntry('check:a')]),
  )
  await within(10_000, 'the next batch', store.appendAudit([auditEntry('check:b'), auditEntry('check:c')]))
  expect(written).toBe(false)

  await holder.query('commit')
  await write
  const rows = await store.readAudit(0, 100)
  expect(rows.map((r) => r.action)).toEqual(['check:a', 'check:b', 'check:c', 'user.create'])
  expect(verifyAuditChain(rows, { seq: 0, hash: GENESIS_HASH }).problems).toEqual([])
  expect(await store.auditHead()).toEqual({ seq: 4, hash: rows[3]?.hash })
})

// Each write waiting for the lock held a pooled connection: a dozen logins during an import took all ten, and
// decisions' records waited for the import too. A node's writes now wait their turn without one.
it("appends decisions' records while more of this node's writes wait for the lock than its pool holds", async () => {
  await holder.query('begin')
  await holder.query('select pg_advisory_xact_lock($1)', [WRITE_LOCK_KEY])
  const head = (await store.changesSince(0)).at(-1)?.revision ?? 0
  const writes = Array.from({ length: 12 }, (_, i) =>
    store.write(head, () => ({
      changes: [{ tbl: 'users', op: 'put', row: { id: `waiting${i}`, name: 'Waiting' } }],
      audit: [],
      result: null,
    })),
  )
  await within(
    10_000,
    "decisions' records behind a dozen waiting writes",
    store.appendAudit([auditEntry('check:d')]),
  )
  await holder.query('commit')
  const revisions = (await Promise.all(writes)).map((w) => w.revision)
  expect(revisions).toEqual(Array.from({ length: 12 }, (_, i) => head + i + 1))
})
