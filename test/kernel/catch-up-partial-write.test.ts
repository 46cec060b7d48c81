import { beforeAll, expect, it, vi } from 'vitest'
import type { Custodian } from '../../src/custodian.js'
import { nodeBesideAWriter } from '../support/other-writer.js'

// A node catches up with the change log a page at a time (10,000 changes), and a page may end inside a write
// (a bulk import is one write of millions of rows). Applied as it came, part of a write would be a state no
// write committed, in which an import's grants could meet a resource's old parent, say. So full pages are
// held, up to 100,000 changes, and applied with the page that ends the write; beyond that the node applies
// them, and is not fresh (answered 503, unready) until it has read the rest.

const beside = nodeBesideAWriter()
const { writeUsers } = beside
let node: Custodian
beforeAll(() => {
  node = beside.node
})

/** Holds the node's `n`th read of the change log until the returned `release` is called. */
function holdRead(n: number) {
  const read = node.store.changesSince.bind(node.store)
  const seen = { reads: 0 }
  let release = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  const spy = vi.spyOn(node.store, 'changesSince').mockImplementation(async (revision, limit) => {
    const page = await read(revision, limit)
    if (++seen.reads === n) await held
    return page
  })
  return { seen, release, restore: () => spy.mockRestore() }
}

it('applies a write of more than one page whole, once it has read its end', async () => {
  await writeUsers('a', 10_001)
  const second = holdRead(2)
  const caughtUp = node.catchUp()
  await vi.waitFor(() => expect(second.seen.reads).toBe(2))
  expect(node.index.users.has('a0')).toBe(false) // the first page is held, not applied
  expect(node.fresh).toBe(true) // the Index is as before the write: a state the store had
  second.release()
  await caughtUp
  second.restore()
  expect(node.index.users.has('a0')).toBe(true)
  expect(node.index.users.has('a10000')).toBe(true)
})

it('is not fresh while its Index holds part of a write too large to hold, and is once it has read the rest', async () => {
  await writeUsers('b', 100_001)
  const last = holdRead(11) // ten full pages are held and applied; the eleventh holds the write's end
  const caughtUp = node.catchUp()
  await vi.waitFor(() => expect(last.seen.reads).toBe(11))
  expect(node.index.users.has('b0')).toBe(true)
  expect(node.index.users.has('b100000')).toBe(false)
  expect(node.catchingUp).toBe(true)
  expect(node.fresh).toBe(false)
  last.release()
  await caughtUp
  last.restore()
  expect(node.index.users.has('b100000')).toBe(true)
  expect(node.catchingUp).toBe(false)
  expect(node.fresh).toBe(true)
})

// Each projection skips the changes it has (their revision is not past its own): held pages, or a read that
// this node's own write overtook, must not set rows back.
it("does not apply again what its own write caught up with while a catch-up's read was on its way", async () => {
  await node.catchUp()
  const rename = (name: string) => beside.write([{ tbl: 'users', op: 'put', row: { id: 'carol', name } }])
  await rename('Carol Old')
  const first = holdRead(1)
  const caughtUp = node.catchUp()
  await vi.waitFor(() => expect(first.seen.reads).toBe(1)) // it read the old name, and waits
  await rename('Carol New')
  await node.createUser(undefined, { id: 'dave', name: 'Dave' }) // this write reads both renames first
  expect(node.index.users.get('carol')?.name).toBe('Carol New')
  first.release()
  await caughtUp
  first.restore()
  expect(node.index.users.get('carol')?.name).toBe('Carol New')
  expect(node.index.users.has('dave')).toBe(true)
})
