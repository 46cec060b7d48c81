import { beforeAll, expect, it, vi } from 'vitest'
import type { Custodian } from '../../src/custodian.js'
import { PENDING_LIMIT, TooFarBehind } from '../../src/store/write-statements.js'
import { nodeBesideAWriter } from '../support/other-writer.js'

// A write reads, under the store's write lock, the changes others committed since its node last read. After
// another process's bulk import (millions of changes), a login on a serving node would read them all at once:
// gigabytes held, and the lock held while they were applied (3,000,000 changes: 23 s, 2.9 GB). The store
// refuses a write that far behind; the node catches up outside the lock, a page at a time, and writes then.

const beside = nodeBesideAWriter()
const { writeUsers } = beside
let node: Custodian
beforeAll(() => {
  node = beside.node
})

/** What each of the node's writes read under the lock: the pending changes' count, or the refusal. */
function watchWrites() {
  const write = node.store.write.bind(node.store)
  const seen: (number | string)[] = []
  vi.spyOn(node.store, 'write').mockImplementation((since, plan) =>
    write(since, (pending) => {
      seen.push(pending.length)
      return plan(pending)
    }).catch((error) => {
      seen.push(error instanceof TooFarBehind ? 'too far behind' : String(error))
      throw error
    }),
  )
  return seen
}

it('a node further behind than a write may read catches up outside the lock, then writes', async () => {
  await writeUsers('imported', PENDING_LIMIT + 1)
  const seen = watchWrites()
  const made = await node.createUser(undefined, { id: 'late', name: 'Late' })
  expect(seen).toEqual(['too far behind', 0])
  expect(node.index.users.has('imported0')).toBe(true)
  expect(node.index.users.has(`imported${PENDING_LIMIT}`)).toBe(true)
  expect(node.index.users.get('late')?.name).toBe('Late')
  expect(made.revision).toBe(PENDING_LIMIT + 2)
  expect(node.revision).toBe(made.revision)
  vi.restoreAllMocks()
})

it('a node as far behind as a write may read writes at once, reading those changes under the lock', async () => {
  await writeUsers('more', PENDING_LIMIT)
  const seen = watchWrites()
  await node.createUser(undefined, { id: 'later', name: 'Later' })
  expect(seen).toEqual([PENDING_LIMIT])
  expect(node.index.users.has(`more${PENDING_LIMIT - 1}`)).toBe(true)
  vi.restoreAllMocks()
})

it('answers 503, naming why, when others keep committing more than it can catch up with', async () => {
  // Each time a catch-up has read the end of the log, another process writes more than a lock's worth.
  const read = node.store.changesSince.bind(node.store)
  let writes = 0
  vi.spyOn(node.store, 'changesSince').mockImplementation(async (revision, limit) => {
    const page = await read(revision, limit)
    if (page.length === 0) await writeUsers(`again${++writes}-`, PENDING_LIMIT + 1)
    return page
  })
  await writeUsers('again0-', PENDING_LIMIT + 1)
  const refused = node.createUser(undefined, { id: 'never', name: 'Never' })
  await expect(refused).rejects.toBeInstanceOf(TooFarBehind)
  await expect(refused).rejects.toMatchObject({ code: 'Unavailable', status: 503 })
  vi.restoreAllMocks()
  await node.catchUp()
  expect(writes).toBeGreaterThan(0)
  expect(node.index.users.has(`again${writes}-${PENDING_LIMIT}`)).toBe(true)
  expect(node.index.users.has('never')).toBe(false)
})
