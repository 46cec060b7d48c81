import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { runScript } from '../../src/script/run-script.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * A node keeps the secrets of tokens it has verified, so as not to hash them again (SECURITY.md, Secrets).
 * Attack: use that memory to get past a check the stored record would refuse: a token logged out on another
 * node, or the remembered id with another secret.
 */
describe('remembered token secrets', () => {
  const temp = tempSqlite()
  let a: Custodian
  let b: Custodian

  beforeAll(async () => {
    const open = () => Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    a = await open()
    const setup: boolean[] = []
    await runScript(
      a,
      Readable.from(
        [
          'define_permission open_door, Open door, Opens the door',
          'define_role resident, Resident, Lives here',
          'add_entitlement_to_role resident, open_door',
          'create_resource house1, House one',
          'create_user sam, Sam',
          'add_user_credential sam, password, sam secret',
          'add_role_to_user sam, resident',
        ].join('\n'),
      ),
      (report) => setup.push(report.ok),
    )
    expect(setup.every(Boolean)).toBe(true)
    b = await open()
  })
  afterAll(async () => {
    await a.close()
    await b.close()
    temp.remove()
  })

  it('refuses a remembered token once it was logged out on another node', async () => {
    const { token } = await a.login('sam', 'sam secret')
    expect(a.checkAccess(token, 'open_door', 'house1').allowed).toBe(true) // verified, and remembered
    await b.catchUp()
    await b.logout(token)
    await a.catchUp()
    const after = a.checkAccess(token, 'open_door', 'house1')
    expect(after.allowed).toBe(false)
    expect(after.error).toBe('InvalidAccessToken')
  })

  it('refuses the id of a remembered token with any other secret', async () => {
    const { token } = await a.login('sam', 'sam secret')
    expect(a.checkAccess(token, 'open_door', 'house1').allowed).toBe(true)
    const forged = `${token.slice(0, token.indexOf('.') + 1)}${'A'.repeat(43)}`
    const refused = a.checkAccess(forged, 'open_door', 'house1')
    expect(refused.allowed).toBe(false)
    expect(refused.error).toBe('InvalidAccessToken')
  })
})
