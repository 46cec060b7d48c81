import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { importEntitlements } from '../../src/entitlements/entitlement-import.js'
import { PENDING_LIMIT } from '../../src/store/write-statements.js'
import { tempSqlite } from '../support/temp-store.js'

const source = (...records: object[]) => ({
  name: 'race.jsonl',
  format: 'jsonl' as const,
  chunks: [records.map((r) => JSON.stringify(r)).join('\n')],
})

/** Another node writes between the import's check and its bulk write. */
describe('an entitlements import racing another node', () => {
  const temp = tempSqlite()
  let node: Custodian
  let other: Custodian
  const open = () => Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })

  beforeAll(async () => {
    node = await open()
    other = await open()
    await other.defineRole(undefined, { id: 'reader', name: 'Reader', description: '' })
    await other.createUser(undefined, { id: 'ann', name: 'Ann' })
    await other.addUserCredential(undefined, 'ann', 'password', 'ann secret')
  })
  afterAll(async () => {
    await node?.close()
    await other?.close()
    temp.remove()
  })

  /** Runs `write` on the other node just before the import's first bulk write; counts the bulk writes. */
  const otherWritesFirst = (write: () => Promise<unknown>) => {
    const bulkWrite = node.store.bulkWrite.bind(node.store)
    let calls = 0
    vi.spyOn(node.store, 'bulkWrite').mockImplementation(async (...args) => {
      if (calls++ === 0) await write()
      return bulkWrite(...args)
    })
    return () => calls
  }

  it('checks again when the other write touched what it checked, and refuses what no longer holds', async () => {
    const calls = otherWritesFirst(() => other.deleteRole(undefined, 'reader'))
    const outcome = await importEntitlements(
      node,
      undefined,
      source({ type: 'user', id: 'bob' }, { type: 'grant', user: 'bob', role: 'reader' }),
    )
    expect(outcome).toEqual({
      ok: false,
      problems: [{ line: 2, field: 'role', message: 'role reader is neither in the file nor in the store' }],
      more: 0,
    })
    expect(calls()).toBe(1)
    expect(node.index.users.has('bob')).toBe(false)
    vi.restoreAllMocks()
  })

  it('goes ahead when the other write cannot upset it (a new session)', async () => {
    const calls = otherWritesFirst(() => other.login('ann', 'ann secret'))
    const outcome = await importEntitlements(node, undefined, source({ type: 'user', id: 'cy' }), {
      catchUp: true,
    })
    expect(outcome.ok).toBe(true)
    expect(calls()).toBe(1)
    expect(node.index.users.has('cy')).toBe(true)
    vi.restoreAllMocks()
  })

  it('catches up and checks again when the other wrote more than a write may read under the lock (an import)', async () => {
    const many = Array.from({ length: PENDING_LIMIT + 1 }, (_, i) => ({ type: 'user', id: `bulk${i}` }))
    const calls = otherWritesFirst(async () => {
      expect((await importEntitlements(other, undefined, source(...many))).ok).toBe(true)
    })
    const outcome = await importEntitlements(node, undefined, source({ type: 'user', id: 'dee' }), {
      catchUp: true,
    })
    expect(outcome.ok).toBe(true)
    expect(calls()).toBe(2) // refused as too far behind, then written after the catch-up
    expect(node.index.users.has(`bulk${PENDING_LIMIT}`)).toBe(true)
    expect(node.index.users.has('dee')).toBe(true)
    vi.restoreAllMocks()
  })
})
