import { describe, expect, it, vi } from 'vitest'
import { CustodianError } from '../../../src/errors.js'
import { auditEntry, backends, openStore, race, storeFixture } from './backends.js'

const permission = (id: string) =>
  ({ tbl: 'permissions', op: 'put', row: { id, name: 'P', description: 'd', builtin: 0 } }) as const

describe.each(backends)('the replicated write path and change log on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('creates its schema with the built-in admin permission, and reopening migrates nothing twice', async () => {
    const snapshot = await fixture.store.loadSnapshot()
    expect(snapshot.revision).toBe(0)
    expect(snapshot.rows.permissions).toEqual([expect.objectContaining({ id: 'admin', builtin: 1 })])
    const again = await openStore(fixture.target)
    expect((await again.loadSnapshot()).rows.permissions).toHaveLength(1)
    await again.close()
  })

  it('commits rows, change records and audit records together, with increasing revisions', async () => {
    const { store } = fixture
    const first = await store.write(0, (pending) => {
      expect(pending).toEqual([])
      return {
        changes: [
          { tbl: 'users', op: 'put', row: { id: 'sam', name: 'Sam' } },
          { tbl: 'resources', op: 'put', row: { id: 'house1', description: 'House', parent_id: null } },
        ],
        audit: [auditEntry('user.create')],
        result: 'made',
      }
    })
    expect(first).toMatchObject({ result: 'made', revision: 2 })
    expect(first.changes.map((c) => c.revision)).toEqual([1, 2])
    const second = await store.write(first.revision, () => ({
      changes: [{ tbl: 'users', op: 'put', row: { id: 'sam', name: 'Samuel' } }],
      audit: [],
      result: null,
    }))
    expect(second.revision).toBe(3)
    const snapshot = await store.loadSnapshot()
    expect(snapshot.revision).toBe(3)
    expect(snapshot.rows.users).toEqual([{ id: 'sam', name: 'Samuel' }])
    expect(snapshot.rows.resources).toEqual([{ id: 'house1', description: 'House', parent_id: null }])
    const changes = await store.changesSince(1)
    expect(changes.map((c) => [c.revision, c.tbl, c.op])).toEqual([
      [2, 'resources', 'put'],
      [3, 'users', 'put'],
    ])
    expect(changes[1]).toEqual({
      revision: 3,
      at: second.changes[0]?.at,
      tbl: 'users',
      op: 'put',
      row: { id: 'sam', name: 'Samuel' },
    })
  })

  it('hands a writer the changes committed since its revision', async () => {
    const seen = await fixture.store.write(1, (pending) => ({
      changes: [],
      audit: [],
      result: pending.map((c) => c.revision),
    }))
    expect(seen.result).toEqual([2, 3])
    expect(seen.revision).toBe(3) // a write of nothing moves nothing
  })

  it('writes nothing when the plan throws: no rows, no change records, no audit, no outbox', async () => {
    const { store } = fixture
    const before = await store.loadSnapshot()
    const auditBefore = await store.readAudit(0, 1000)
    await expect(
      store.write(before.revision, () => {
        throw new CustodianError('Conflict', 'no')
      }),
    ).rejects.toThrow('no')
    const after = await store.loadSnapshot()
    expect(after).toEqual(before)
    expect(await store.changesSince(before.revision)).toEqual([])
    expect(await store.readAudit(0, 1000)).toEqual(auditBefore)
    expect(await store.pendingOutbox(10)).toEqual([])
  })

  it('writes nothing when a change fails in the database part-way', async () => {
    const { store } = fixture
    const before = await store.loadSnapshot()
    await expect(
      store.write(before.revision, () => ({
        changes: [
          permission('half'),
          // A column the table does not have: the insert fails after the first change was applied.
          { tbl: 'users', op: 'put', row: { id: 'x', name: 'X', nonsense: 1 } as never },
        ],
        audit: [auditEntry('half.write')],
        outbox: [
          { channel: 'email', target: 'a@b.example', subject: 's', body: 'b', contentType: 'text/plain' },
        ],
        result: null,
      })),
    ).rejects.toThrow(/nonsense/)
    expect(await store.loadSnapshot()).toEqual(before)
    expect(await store.changesSince(before.revision)).toEqual([])
    expect(await store.pendingOutbox(10)).toEqual([])
  })

  it('deletes by key, composite keys included', async () => {
    const { store } = fixture
    const put = await store.write(3, () => ({
      changes: [
        { tbl: 'user_grants', op: 'put', row: { user_id: 'sam', grant_kind: 'role', target_id: 'a' } },
        { tbl: 'user_grants', op: 'put', row: { user_id: 'sam', grant_kind: 'role', target_id: 'b' } },
      ],
      audit: [],
      result: null,
    }))
    const deleted = await store.write(put.revision, () => ({
      changes: [
        { tbl: 'user_grants', op: 'delete', row: { user_id: 'sam', grant_kind: 'role', target_id: 'a' } },
      ],
      audit: [],
      result: null,
    }))
    const snapshot = await store.loadSnapshot()
    expect(snapshot.rows.user_grants).toEqual([{ user_id: 'sam', grant_kind: 'role', target_id: 'b' }])
    expect((await store.changesSince(put.revision)).map((c) => [c.op, c.row])).toEqual([
      ['delete', { user_id: 'sam', grant_kind: 'role', target_id: 'a' }],
    ])
    expect(deleted.revision).toBe(put.revision + 1)
  })

  it('keeps revisions contiguous and in order under concurrent writers from two connections', async () => {
    const { store } = fixture
    const other = await fixture.node()
    const start = (await store.loadSnapshot()).revision
    const outcomes = await race([store, other], 20, (node, i) =>
      node.write(start, () => ({
        changes: [permission(`p${i}`)],
        audit: [auditEntry(`w${i}`)],
        result: null,
      })),
    )
    expect(outcomes.map((o) => o.revision).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => start + i + 1),
    )
    const log = await store.changesSince(start)
    expect(log.map((c) => c.revision)).toEqual(Array.from({ length: 20 }, (_, i) => start + i + 1))
    // Every write saw exactly the writes committed before it.
    const seen = await other.write(start, (pending) => ({ changes: [], audit: [], result: pending.length }))
    expect(seen.result).toBe(20)
  })

  it('pages the change log by revision and limit', async () => {
    const { store } = fixture
    const all = await store.changesSince(0)
    const head = (await store.loadSnapshot()).revision
    expect(all.map((c) => c.revision)).toEqual(Array.from({ length: head }, (_, i) => i + 1))
    expect((await store.changesSince(2, 3)).map((c) => c.revision)).toEqual([3, 4, 5])
    expect(await store.changesSince(head)).toEqual([])
  })

  it('reads a snapshot whose rows are exactly those of its revision, while another node writes', async () => {
    const { store } = fixture
    const other = await fixture.node()
    const start = (await store.loadSnapshot()).revision
    const writing = race([other], 10, (node, i) =>
      node.write(start, () => ({ changes: [permission(`s${i}`)], audit: [], result: null })),
    )
    const snapshots = await race([store], 10, (node) => node.loadSnapshot())
    await writing
    for (const snapshot of snapshots) {
      const made = snapshot.rows.permissions.filter((p) => p.id.startsWith('s')).length
      expect(made).toBe(snapshot.revision - start)
    }
  })

  it('announces a new revision to the other nodes on PostgreSQL, and never on SQLite', async () => {
    const { store } = fixture
    const other = await fixture.node()
    const heard = vi.fn()
    const errors: Error[] = []
    const unsubscribe = await other.subscribe(heard, (error) => errors.push(error))
    const written = await store.write((await store.loadSnapshot()).revision, () => ({
      changes: [permission('announced')],
      audit: [],
      result: null,
    }))
    if (store.kind === 'postgres')
      await vi.waitFor(() => expect(heard).toHaveBeenCalled(), { timeout: 5_000 })
    else {
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(heard).not.toHaveBeenCalled()
    }
    await unsubscribe()
    expect(errors).toEqual([])
    expect((await other.changesSince(written.revision - 1)).map((c) => c.row)).toEqual([
      { id: 'announced', name: 'P', description: 'd', builtin: 0 },
    ])
  })
})
