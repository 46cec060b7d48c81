import { afterAll, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { tempSqlite } from '../support/temp-store.js'

// A command that reads the store only opens a node without its Index: it reads the audit log and the
// revision as a full node does, and reading the Index is a clear error, not an empty answer.

const temp = tempSqlite()
afterAll(() => temp.remove())

it('opens a node without its Index that reads the store, and refuses to read the Index', async () => {
  const full = await Custodian.open({ db: temp.target, follow: false })
  await full.ensureAdmin()
  const revision = full.revision
  await full.close()

  const light = await Custodian.open({ db: temp.target, follow: false, index: false })
  try {
    expect(light.revision).toBe(revision)
    expect((await light.verifyAudit()).problems).toEqual([])
    expect(() => light.index).toThrow(/opened without its Index/)
  } finally {
    await light.close()
  }
})
