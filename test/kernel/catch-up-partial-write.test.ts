import { afterAll, expect, it, vi } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { openStore } from '../../src/store/store.js'
import { tempSqlite } from '../support/temp-store.js'

// A node catches up with the change log a page at a time, and a page may end inside a write (a bulk import is
// one write of millions of rows). Until it has read the rest, its Index holds part of that write: a state no
// write committed, in which an import's grants could meet a resource's old parent, say. The node is not fresh
// meanwhile (its requests are answered 503 and it reports itself unready), and is again once it has read all.

const temp = tempSqlite()
afterAll(() => temp.remove())

it('is not fresh while its Index holds part of a write, and is once it has read the rest', async () => {
  const writer = await openStore(temp.target)
  const node = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
  try {
    const users = Array.from({ length: 10_001 }, (_, i) => ({
      tbl: 'users' as const,
      op: 'put' as const,
      row: { id: `u${i}`, name: `User ${i}` },
    }))
    await writer.write(0, () => ({ changes: users, audit: [], result: null }))

    const read = node.store.changesSince.bind(node.store)
    let reads = 0
    let release = () => {}
    const rest = new Promise<void>((resolve) => {
      release = resolve
    })
    vi.spyOn(node.store, 'changesSince').mockImplementation(async (revision, limit) => {
      const page = await read(revision, limit)
      if (++reads === 2) await rest
      return page
    })
    const caughtUp = node.catchUp()
    await vi.waitFor(() => expect(reads).toBe(2))
    expect(node.index.users.has('u0')).toBe(true) // the first page is in the Index
    expect(node.index.users.has('u10000')).toBe(false) // the rest of the write is not
    expect(node.catchingUp).toBe(true)
    expect(node.fresh).toBe(false)

    release()
    await caughtUp
    expect(node.index.users.has('u10000')).toBe(true)
    expect(node.catchingUp).toBe(false)
    expect(node.fresh).toBe(true)
  } finally {
    await node.close()
    await writer.close()
  }
})
