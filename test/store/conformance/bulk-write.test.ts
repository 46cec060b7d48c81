import { describe, expect, it, vi } from 'vitest'
import { PENDING_LIMIT, TooFarBehind } from '../../../src/store/write-statements.js'
import { auditEntry, backends, GENESIS_HASH, storeFixture, verifyAuditChain } from './backends.js'

/** `n` users u0..u{n-1}, made while they are written. */
function* users(n: number) {
  for (let i = 0; i < n; i++) yield { id: `u${i}`, name: `User ${i}` }
}

describe.each(backends)('the bulk write path on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('commits rows of several tables, a change record each with consecutive revisions, and the audit records', async () => {
    const { store } = fixture
    // More rows than one PostgreSQL batch and many SQLite statements, with a remainder.
    const count = 12_345
    const progress: number[] = []
    const outcome = await store.bulkWrite(
      0,
      (pending) => {
        expect(pending).toEqual([])
        return {
          tables: [
            { tbl: 'roles', count: 1, rows: [{ id: 'reader', name: 'Reader', description: '' }] },
            { tbl: 'users', count, rows: users(count) },
            {
              tbl: 'user_grants',
              count: 2,
              rows: [
                { user_id: 'u0', grant_kind: 'role', target_id: 'reader' },
                { user_id: 'u1', grant_kind: 'role', target_id: 'reader' },
              ],
            },
          ],
          audit: [auditEntry('entitlements.import')],
          result: 'done',
        }
      },
      (written) => progress.push(written),
    )
    expect(outcome).toEqual({ result: 'done', firstRevision: 1, revision: count + 3 })
    expect(progress.at(-1)).toBe(count + 3)
    const snapshot = await store.loadSnapshot()
    expect(snapshot.revision).toBe(count + 3)
    expect(snapshot.rows.users).toHaveLength(count)
    expect(snapshot.rows.user_grants).toHaveLength(2)
    // Another node catches up from the change log as from any write, in order.
    const other = await fixture.node()
    const changes = await other.changesSince(0, count + 10)
    expect(changes.map((c) => c.revision)).toEqual(Array.from({ length: count + 3 }, (_, i) => i + 1))
    expect(changes[0]).toMatchObject({ tbl: 'roles', op: 'put', row: { id: 'reader', name: 'Reader' } })
    expect(changes[1]).toMatchObject({ tbl: 'users', op: 'put', row: { id: 'u0', name: 'User 0' } })
    expect(changes.at(-1)).toMatchObject({
      tbl: 'user_grants',
      row: { user_id: 'u1', grant_kind: 'role', target_id: 'reader' },
    })
    const audit = await store.readAudit(0, 10)
    expect(audit.map((a) => a.action)).toEqual(['entitlements.import'])
    const chain = verifyAuditChain(audit, { seq: 0, hash: GENESIS_HASH })
    expect(chain.problems).toEqual([])
    expect(await store.auditHead()).toEqual(chain.last)
  })

  it('replaces rows with the same key, and continues the revisions of ordinary writes', async () => {
    const { store } = fixture
    const head = (await store.loadSnapshot()).revision
    // Written by another node after the bulk writer's revision: handed to its plan.
    const written = await (await fixture.node()).write(head, () => ({
      changes: [{ tbl: 'users', op: 'put', row: { id: 'solo', name: 'Solo' } }],
      audit: [],
      result: null,
    }))
    const seen: unknown[] = []
    const outcome = await store.bulkWrite(head, (pending) => {
      seen.push(...pending)
      return {
        tables: [
          {
            tbl: 'users',
            count: 2,
            rows: [
              { id: 'u0', name: 'Renamed' },
              { id: 'solo', name: 'Solo 2' },
            ],
          },
        ],
        audit: [],
        result: null,
      }
    })
    expect(seen).toEqual([
      expect.objectContaining({
        revision: written.revision,
        tbl: 'users',
        row: { id: 'solo', name: 'Solo' },
      }),
    ])
    expect(outcome.firstRevision).toBe(written.revision + 1)
    expect(outcome.revision).toBe(written.revision + 2)
    const rows = (await store.loadSnapshot()).rows.users
    expect(rows.find((u) => u.id === 'u0')?.name).toBe('Renamed')
    expect(rows.find((u) => u.id === 'solo')?.name).toBe('Solo 2')
  })

  it('writes nothing when the plan throws, or when a row fails half way through', async () => {
    const { store } = fixture
    const before = await store.loadSnapshot()
    await expect(
      store.bulkWrite(before.revision, () => {
        throw new Error('the store moved')
      }),
    ).rejects.toThrow('the store moved')
    function* failing() {
      yield* users(7_000)
      throw new Error('a bad row')
    }
    await expect(
      store.bulkWrite(before.revision, () => ({
        tables: [{ tbl: 'users', count: 7_001, rows: failing() }],
        audit: [auditEntry('never')],
        result: null,
      })),
    ).rejects.toThrow('a bad row')
    const after = await store.loadSnapshot()
    expect(after.revision).toBe(before.revision)
    expect(after.rows.users).toHaveLength(before.rows.users.length)
    expect((await store.readAudit(0, 100)).map((a) => a.action)).not.toContain('never')
  })

  // A node far behind (another process's import committed millions of changes) would read them all under the
  // lock, into memory at once: it is refused, and catches up outside the lock first (kernel.ts).
  it('refuses a writer more than PENDING_LIMIT changes behind, before planning anything, and takes one exactly that far', async () => {
    const { store } = fixture
    const before = await store.loadSnapshot()
    expect(before.revision).toBeGreaterThan(PENDING_LIMIT) // the writes above
    const plan = vi.fn(() => ({ changes: [], audit: [auditEntry('never')], result: null }))
    const bulkPlan = vi.fn(() => ({ tables: [], audit: [auditEntry('never')], result: null }))
    const far = before.revision - PENDING_LIMIT - 1
    await expect(store.write(far, plan)).rejects.toBeInstanceOf(TooFarBehind)
    await expect(store.bulkWrite(far, bulkPlan)).rejects.toThrow(
      `more than ${PENDING_LIMIT.toLocaleString('en')} changes behind the store (at revision ${far}`,
    )
    expect(plan).not.toHaveBeenCalled()
    expect(bulkPlan).not.toHaveBeenCalled()
    expect((await store.readAudit(0, 100)).map((a) => a.action)).not.toContain('never')

    const seen = await store.write(before.revision - PENDING_LIMIT, (pending) => ({
      changes: [],
      audit: [],
      result: pending.length,
    }))
    expect(seen.result).toBe(PENDING_LIMIT)
  })
})
