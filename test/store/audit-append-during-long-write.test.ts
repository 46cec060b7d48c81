import { expect, it } from 'vitest'
import { WRITE_LOCK_KEY } from '../../src/store/store.js'
import { postgresStoreBesideAHolder } from '../support/other-writer.js'
import { within } from '../support/wait.js'
import { auditEntry, GENESIS_HASH, verifyAuditChain } from './conformance/backends.js'

// On PostgreSQL a write holds the write lock to its commit, and a bulk import is one write: a million users
// hold it for minutes. Decisions' records, appended alone, take only the audit log's lock, so they commit
// (and their checks are answered) meanwhile; a write still waits its turn, and the chain stays one.
// (SQLite has one write lock a file: there decisions wait for the import, as docs/import-entitlements.md says.)

const beside = postgresStoreBesideAHolder()

it("appends decisions' records while another transaction holds the write lock; a write waits for it", async () => {
  await beside.holder.query('begin')
  await beside.holder.query('select pg_advisory_xact_lock($1)', [WRITE_LOCK_KEY])
  let written = false
  const write = beside.store
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
    beside.store.appendAudit([auditEntry('check:a')]),
  )
  await within(
    10_000,
    'the next batch',
    beside.store.appendAudit([auditEntry('check:b'), auditEntry('check:c')]),
  )
  expect(written).toBe(false)

  await beside.holder.query('commit')
  await write
  const rows = await beside.store.readAudit(0, 100)
  expect(rows.map((r) => r.action)).toEqual(['check:a', 'check:b', 'check:c', 'user.create'])
  expect(verifyAuditChain(rows, { seq: 0, hash: GENESIS_HASH }).problems).toEqual([])
  expect(await beside.store.auditHead()).toEqual({ seq: 4, hash: rows[3]?.hash })
})
