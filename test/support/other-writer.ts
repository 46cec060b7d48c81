import pg from 'pg'
import { afterAll, beforeAll, vi } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { openStore, type PlannedChange, type Store } from '../../src/store/store.js'
import { tempPostgres, tempSqlite } from './temp-store.js'

/**
 * A node that reads the change log only when told, on a SQLite store another process writes to (`writer`),
 * for a test file: opened before its tests, closed after. The other process writes from the revision it
 * last wrote, as a node does (a writer far behind is refused).
 */
export function nodeBesideAWriter() {
  const temp = tempSqlite()
  const fixture = { head: 0 } as { node: Custodian; writer: Store; head: number }
  beforeAll(async () => {
    fixture.writer = await openStore(temp.target)
    fixture.node = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
  })
  afterAll(async () => {
    vi.restoreAllMocks()
    await fixture.node.close()
    await fixture.writer.close()
    temp.remove()
  })
  /** One write of the other process. */
  const write = async (changes: PlannedChange[]) => {
    const outcome = await fixture.writer.write(fixture.head, () => ({ changes, audit: [], result: null }))
    fixture.head = outcome.revision
    return outcome
  }
  return {
    get node() {
      return fixture.node
    },
    write,
    /** One write of `count` new users, `prefix`0 onwards. */
    writeUsers: (prefix: string, count: number) =>
      write(
        Array.from({ length: count }, (_, i) => ({
          tbl: 'users' as const,
          op: 'put' as const,
          row: { id: `${prefix}${i}`, name: `User ${i}` },
        })),
      ),
  }
}

/**
 * A store on a fresh PostgreSQL database for a test file, and another process's connection (`holder`) that
 * may take its locks: opened before the file's tests, closed after.
 */
export function postgresStoreBesideAHolder() {
  const fixture = { remove: async () => {} } as {
    store: Store
    holder: pg.Client
    remove: () => Promise<void>
  }
  beforeAll(async () => {
    const temp = await tempPostgres()
    fixture.remove = temp.remove
    fixture.store = await openStore(temp.target)
    fixture.holder = new pg.Client({ connectionString: temp.target })
    await fixture.holder.connect()
  })
  afterAll(async () => {
    await fixture.holder.end()
    await fixture.store.close()
    await fixture.remove()
  })
  return fixture
}
