import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { EntitlementIndex } from '../../src/entitlements/entitlement-index.js'
import { runScriptFile } from '../../src/script/run-script.js'
import { tempSqlite } from '../support/temp-store.js'

// A node's Index is built from the store with users' grants read in groups (snapshot-stream.ts); it must
// hold what an Index built from the rows one by one holds.

const seedScript = fileURLToPath(new URL('../fixtures/housemate-seed.script', import.meta.url))
const temp = tempSqlite()
afterAll(() => temp.remove())

const grants = (index: EntitlementIndex) =>
  Object.fromEntries(
    (['userRoles', 'userPermissions', 'userResourceRoles'] as const).map((kind) => [
      kind,
      Object.fromEntries([...index[kind]].map(([user, set]) => [user, [...set].sort()]).sort()),
    ]),
  )

it("builds from grouped grants the Index that the rows one by one build, each user's decisions alike", async () => {
  const writer = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
  expect((await runScriptFile(writer, seedScript, () => {})).failed).toBe(0)
  await writer.close()

  const node = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
  try {
    const byRows = EntitlementIndex.fromSnapshot(await node.store.loadSnapshot())
    expect(Object.keys(grants(node.index).userResourceRoles).length).toBeGreaterThan(0)
    expect(grants(node.index)).toEqual(grants(byRows))
    for (const user of byRows.users.keys())
      expect([...node.index.effective(user).global].sort()).toEqual([...byRows.effective(user).global].sort())
  } finally {
    await node.close()
  }
})
