import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { ROOT_ADMINISTRATOR, runLines } from '../support/script-session.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * An administrator with a narrower permission than `admin` acts within it (entitlements/administrative-scope.ts):
 * a holder of user_admin alone may manage ordinary users, but cannot give itself (or anyone) `admin` or another
 * administrative permission, directly or through a role, nor take over or demote a user who holds more than it
 * does. A holder of role_admin alone cannot put `admin` into a role it holds.
 */
describe('no escalation from a narrower administrative permission', () => {
  const temp = tempSqlite()
  let custodian: Custodian

  const run = (...lines: string[]) => runLines(custodian, ...lines)

  beforeAll(async () => {
    custodian = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    const setup = await run(
      ...ROOT_ADMINISTRATOR,
      'define_permission user_admin, "User Administrator", "Create, Update, Delete Users"',
      'define_permission role_admin, "Role Administrator", "Define permissions and roles"',
      'define_permission control_oven, "Control Oven", "Full Control of Oven"',
      'define_permission housemate_controller, "House Mate controller", "Relays voice prints"',
      'define_role voice_relay, "Voice relay", "A controller"',
      'add_entitlement_to_role voice_relay, housemate_controller',
      'define_role admin_role, "Admin Role", "Users"',
      'add_entitlement_to_role admin_role, user_admin',
      'define_role super_role, "Super Role", "Everything"',
      'add_entitlement_to_role super_role, admin',
      'define_role roles_role, "Roles", "Roles"',
      'add_entitlement_to_role roles_role, role_admin',
      'create_user debra, Debra',
      'add_user_credential debra, password, debra secret',
      'add_role_to_user debra, admin_role',
      'create_user rita, Rita',
      'add_user_credential rita, password, rita secret',
      'add_role_to_user rita, roles_role',
      'create_user sam, Sam',
    )
    expect(setup.filter((r) => r !== 'ok')).toEqual([])
  })
  afterAll(async () => {
    await custodian.close()
    temp.remove()
  })

  it('lets a user_admin grant only what it holds, and change only users who hold no more than it', async () => {
    const outcomes = await run(
      'login user debra, password debra secret',
      'add_role_to_user debra, admin',
      'add_role_to_user debra, super_role',
      'add_role_to_user debra, role_admin',
      'add_role_to_user sam, admin',
      'add_user_credential root, password, taken over',
      'remove_user_credential root, password',
      'remove_role_from_user root, admin',
      'delete_user root',
      'unlock root',
      'add_user_credential rita, password, taken over',
      // Within its powers: a role carrying only user_admin, and ordinary users.
      'add_role_to_user sam, admin_role',
      'add_user_credential sam, password, sam secret',
      'create_user eve, Eve',
      'delete_user eve',
    )
    expect(outcomes[0]).toBe('ok')
    expect(outcomes.slice(1, 5)).toEqual([
      'AccessDenied: debra may not user.grant: admin carries admin, which debra does not hold: only a holder of admin or of every administrative permission it carries may grant, change or delete it',
      'AccessDenied: debra may not user.grant: super_role carries admin, which debra does not hold: only a holder of admin or of every administrative permission it carries may grant, change or delete it',
      'AccessDenied: debra may not user.grant: role_admin carries role_admin, which debra does not hold: only a holder of admin or of every administrative permission it carries may grant, change or delete it',
      'AccessDenied: debra may not user.grant: admin carries admin, which debra does not hold: only a holder of admin or of every administrative permission it carries may grant, change or delete it',
    ])
    for (const refused of outcomes.slice(5, 10))
      expect(refused).toMatch(
        /^AccessDenied: debra may not user\.\w+: user root holds admin, which debra does not/,
      )
    expect(outcomes[10]).toMatch(
      /^AccessDenied: debra may not user.set_credential: user rita holds role_admin/,
    )
    expect(outcomes.slice(11)).toEqual(['ok', 'ok', 'ok', 'ok'])
    // Nothing it was refused happened: root is still an administrator who logs in with its password.
    expect((await custodian.login('root', 'root secret')).userId).toBe('root')
    expect(custodian.index.effective('debra').global.has('admin')).toBe(false)
    expect(custodian.index.effective('sam').global.has('admin')).toBe(false)
  })

  it('lets a role_admin compose roles, but not put an administrative permission it lacks into one', async () => {
    const outcomes = await run(
      'login user rita, password rita secret',
      'add_entitlement_to_role roles_role, admin',
      'add_entitlement_to_role roles_role, user_admin',
      'add_entitlement_to_role roles_role, super_role',
      'remove_entitlement_from_role super_role, admin',
      'delete_role super_role',
      'delete_permission user_admin',
      'add_entitlement_to_role roles_role, control_oven',
    )
    expect(outcomes[0]).toBe('ok')
    for (const refused of outcomes.slice(1, 7))
      expect(refused).toMatch(
        /^AccessDenied: rita may not (role|permission)\.\w+: \w+ carries (admin|user_admin), which rita does not hold/,
      )
    expect(outcomes[7]).toBe('ok')
    expect(custodian.index.effective('rita').global.has('admin')).toBe(false)
  })

  it('keeps housemate_controller, which logs users in by voice print, to those who hold it', async () => {
    const outcomes = await run(
      'login user debra, password debra secret',
      'add_role_to_user sam, housemate_controller',
      'add_role_to_user sam, voice_relay',
      'login user rita, password rita secret',
      'add_entitlement_to_role roles_role, housemate_controller',
    )
    expect(outcomes.slice(1, 3)).toEqual([
      'AccessDenied: debra may not user.grant: housemate_controller carries housemate_controller, which debra does not hold: only a holder of admin or of every administrative permission it carries may grant, change or delete it',
      'AccessDenied: debra may not user.grant: voice_relay carries housemate_controller, which debra does not hold: only a holder of admin or of every administrative permission it carries may grant, change or delete it',
    ])
    expect(outcomes[4]).toMatch(
      /^AccessDenied: rita may not role\.add_entitlement: housemate_controller carries housemate_controller/,
    )
    expect(custodian.index.effective('sam').global.has('housemate_controller')).toBe(false)
  })
})
