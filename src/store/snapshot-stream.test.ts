import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempSqlite } from '../../test/support/temp-store.js'
import { streamSqliteSnapshot } from './snapshot-stream.js'
import { openStore } from './store.js'

describe("a SQLite snapshot read in the reader's worker", () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('fails, naming the cause, on a file that is not a store, and on one that is missing', async () => {
    const notAStore = join(temp.dir, 'not-a-store.db')
    writeFileSync(notAStore, 'this is not a SQLite database, only text long enough to be read as a header.')
    const everything = () => () => {}
    await expect(streamSqliteSnapshot(notAStore, everything)).rejects.toMatchObject({
      code: 'SQLITE_NOTADB',
    })
    await expect(streamSqliteSnapshot(join(temp.dir, 'missing.db'), everything)).rejects.toThrow(
      /missing\.db|unable to open/,
    )
  })

  it('ends with the error of a sink that throws, and the store reads again after it', async () => {
    const store = await openStore(temp.target)
    await store.write(0, () => ({
      changes: [{ tbl: 'users', op: 'put', row: { id: 'ann', name: 'Ann' } }],
      audit: [],
      result: null,
    }))
    await store.close()
    const refusing = (tbl: string) =>
      tbl === 'users'
        ? () => {
            throw new Error('this sink refuses every row')
          }
        : undefined
    await expect(streamSqliteSnapshot(temp.target, refusing as never)).rejects.toThrow(
      'this sink refuses every row',
    )
    let users = 0
    const revision = await streamSqliteSnapshot(temp.target, ((tbl: string) =>
      tbl === 'users' ? () => users++ : undefined) as never)
    expect(users).toBe(1)
    expect(revision).toBeGreaterThan(0)
  })
})
