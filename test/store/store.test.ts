import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GENESIS_HASH, verifyAuditChain } from '../../src/audit/chain.js'
import { CustodianError } from '../../src/errors.js'
import { openStore, type Store } from '../../src/store/store.js'
import { storeBackends } from '../support/temp-store.js'

const at = '2026-11-23T10:00:00.000Z'
const audit = (action: string) => ({
  at,
  actor: 'tester',
  action,
  resource: 'r',
  outcome: 'ok',
  reason: 'because',
})

describe.each(storeBackends)('the store on $name', ({ make }) => {
  let target: string
  let remove: () => Promise<void>
  let store: Store

  beforeAll(async () => {
    ;({ target, remove } = await make())
    store = await openStore(target)
  })
  afterAll(async () => {
    await store.close()
    await remove()
  })

  it('creates its schema with the built-in admin permission, and reopening migrates nothing twice', async () => {
    const snapshot = await store.loadSnapshot()
    expect(snapshot.revision).toBe(0)
    expect(snapshot.rows.permissions).toEqual([expect.objectContaining({ id: 'admin', builtin: 1 })])
    const again = await openStore(target)
    expect((await again.loadSnapshot()).rows.permissions).toHaveLength(1)
    await again.close()
  })

  it('commits rows, change records and audit records together, with increasing revisions', async () => {
    const first = await store.write(0, (pending) => {
      expect(pending).toEqual([])
      return {
        changes: [
          { tbl: 'users', op: 'put', row: { id: 'sam', name: 'Sam' } },
          { tbl: 'resources', op: 'put', row: { id: 'house1', description: 'House', parent_id: null } },
        ],
        audit: [audit('user.create')],
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
  })

  it('hands a writer the changes committed since its revision', async () => {
    const seen = await store.write(1, (pending) => ({
      changes: [],
      audit: [],
      result: pending.map((c) => c.revision),
    }))
    expect(seen.result).toEqual([2, 3])
  })

  it('writes nothing when the plan throws', async () => {
    const before = await store.loadSnapshot()
    await expect(
      store.write(before.revision, () => {
        throw new CustodianError('Conflict', 'no')
      }),
    ).rejects.toThrow('no')
    const after = await store.loadSnapshot()
    expect(after).toEqual(before)
  })

  it('deletes by key, composite keys included', async () => {
    const put = await store.write(3, () => ({
      changes: [
        { tbl: 'user_grants', op: 'put', row: { user_id: 'sam', grant_kind: 'role', target_id: 'a' } },
        { tbl: 'user_grants', op: 'put', row: { user_id: 'sam', grant_kind: 'role', target_id: 'b' } },
      ],
      audit: [],
      result: null,
    }))
    await store.write(put.revision, () => ({
      changes: [
        { tbl: 'user_grants', op: 'delete', row: { user_id: 'sam', grant_kind: 'role', target_id: 'a' } },
      ],
      audit: [],
      result: null,
    }))
    const snapshot = await store.loadSnapshot()
    expect(snapshot.rows.user_grants).toEqual([{ user_id: 'sam', grant_kind: 'role', target_id: 'b' }])
  })

  it('keeps revisions contiguous and in order under concurrent writers from two connections', async () => {
    const other = await openStore(target)
    const start = (await store.loadSnapshot()).revision
    const writes = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? store : other).write(start, () => ({
        changes: [
          { tbl: 'permissions', op: 'put', row: { id: `p${i}`, name: 'P', description: 'd', builtin: 0 } },
        ],
        audit: [audit(`w${i}`)],
        result: null,
      })),
    )
    const outcomes = await Promise.all(writes)
    await other.close()
    expect(outcomes.map((o) => o.revision).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => start + i + 1),
    )
    const log = await store.changesSince(start)
    expect(log.map((c) => c.revision)).toEqual(Array.from({ length: 20 }, (_, i) => start + i + 1))
  })

  it('chains audit records across writes and connections, and records the head', async () => {
    const rows = await store.readAudit(0, 1000)
    expect(rows.length).toBe(21)
    const result = verifyAuditChain(rows, { seq: 0, hash: GENESIS_HASH })
    expect(result.problems).toEqual([])
    expect(await store.auditHead()).toEqual(result.last)
  })

  it('keeps OAuth records: consume once only, revoke by grant, drop the expired', async () => {
    const now = Date.now()
    const row = (model: string, id: string, grant: string | null, expires: number | null) => ({
      model,
      id,
      payload: JSON.stringify({ id }),
      grant_id: grant,
      uid: model === 'Session' ? `uid-${id}` : null,
      client_id: 'c1',
      expires_at: expires,
      consumed_at: null,
    })
    await store.oidc.upsert(row('AuthorizationCode', 'code1', 'g1', now + 60_000))
    await store.oidc.upsert(row('AccessToken', 'at1', 'g1', now + 60_000))
    await store.oidc.upsert(row('AccessToken', 'at2', 'g2', now + 60_000))
    await store.oidc.upsert(row('Session', 's1', null, now - 1))
    expect(await store.oidc.consume('AuthorizationCode', 'code1', now)).toBe(true)
    expect(await store.oidc.consume('AuthorizationCode', 'code1', now)).toBe(false)
    expect((await store.oidc.find('AuthorizationCode', 'code1', now))?.consumed_at).toBe(now)
    expect(await store.oidc.findByUid('Session', 'uid-s1', now)).toBeUndefined() // expired
    await store.oidc.revokeByGrantId(undefined, 'g1')
    expect(await store.oidc.find('AccessToken', 'at1', now)).toBeUndefined()
    expect(await store.oidc.find('AuthorizationCode', 'code1', now)).toBeUndefined()
    expect(await store.oidc.find('AccessToken', 'at2', now)).toMatchObject({
      grant_id: 'g2',
      expires_at: now + 60_000,
    })
    expect(await store.oidc.deleteExpired(now)).toBe(1)
  })

  it('makes a shared secret once', async () => {
    const first = await store.sharedSecret('test')
    expect(first).toMatch(/^[\w-]{40,}$/)
    expect(await store.sharedSecret('test')).toBe(first)
  })
})
