import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { EntitlementIndex } from '../../src/entitlements/entitlement-index.js'
import { runScriptFile } from '../../src/script/run-script.js'
import { tempSqlite } from '../support/temp-store.js'

// A node's Index is built from the store with each user joined to its credentials and grants
// (snapshot-stream.ts); it must hold what an Index built from the rows one by one holds.

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

it("builds from users joined with their credentials and grants the Index that the rows one by one build, each user's decisions alike", async () => {
  const writer = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
  expect((await runScriptFile(writer, seedScript, () => {})).failed).toBe(0)
  // Administrators who can log in: olga through nested roles, pat granted admin itself (a voice print);
  // quinn holds admin but has no credential, so is none.
  const { token } = await writer.login('debra', 'secret')
  await writer.defineRole(token, { id: 'ops_base', name: 'Ops base', description: 'holds admin' })
  await writer.addEntitlementToRole(token, 'ops_base', 'admin')
  await writer.defineRole(token, { id: 'ops', name: 'Ops', description: 'holds ops_base' })
  await writer.addEntitlementToRole(token, 'ops', 'ops_base')
  for (const [id, grant] of [
    ['olga', 'ops'],
    ['pat', 'admin'],
    ['quinn', 'admin'],
  ] as const) {
    await writer.createUser(token, { id, name: id })
    await writer.grantToUser(token, id, grant)
  }
  await writer.addUserCredential(token, 'olga', 'password', 'a long password for olga')
  // Olga is now an administrator who can log in: changing another administrator takes one.
  const olga = await writer.login('olga', 'a long password for olga')
  await writer.addUserCredential(olga.token, 'pat', 'voice_print', 'pat speaking')
  await writer.close()

  const node = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
  try {
    const byRows = EntitlementIndex.fromSnapshot(await node.store.loadSnapshot())
    expect(Object.keys(grants(node.index).userResourceRoles).length).toBeGreaterThan(0)
    expect(grants(node.index)).toEqual(grants(byRows))
    expect(node.index.passwordHashes.size).toBeGreaterThan(0)
    expect(node.index.passwordHashes).toEqual(byRows.passwordHashes)
    expect(node.index.voicePrintOf).toEqual(byRows.voicePrintOf)
    expect(node.index.administrators()).toEqual(new Set(['olga', 'pat']))
    expect(byRows.administrators()).toEqual(new Set(['olga', 'pat']))
    for (const user of byRows.users.keys())
      expect([...node.index.effective(user).global].sort()).toEqual([...byRows.effective(user).global].sort())
  } finally {
    await node.close()
  }
})
