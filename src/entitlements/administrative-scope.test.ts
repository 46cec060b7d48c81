import { describe, expect, it } from 'vitest'
import { applyAll } from '../../test/decisions/adapters/adapter.js'
import { entitlementRows } from '../../test/decisions/adapters/entitlements.js'
import { decideAdministration, decideScope } from './administrative-scope.js'
import { EntitlementIndex } from './entitlement-index.js'
import { permissionFor } from './permissions.js'

// The seed's administrator: user_admin through admin_role; `super` holds admin through a nested role; a
// resource role that carries user_admin makes no administrator (administration counts on every resource).
const index = applyAll(
  new EntitlementIndex(),
  entitlementRows({
    builtin: ['admin'],
    permissions: ['user_admin', 'role_admin', 'control_oven'],
    roles: { admin_role: ['user_admin', 'control_oven'], top: ['admin'], super_role: ['role:top'] },
    resources: { house1: null },
    resource_roles: { house1_admins: { role: 'admin_role', on: 'house1' } },
    users: {
      debra: ['role:admin_role'],
      root: ['role:super_role'],
      sam: ['resource_role:house1_admins'],
      rita: ['permission:role_admin'],
    },
  }),
)

describe('decideAdministration', () => {
  it('allows what the table names to its holder, everything to admin, and names the permission missing', () => {
    expect(decideAdministration(index, 'debra', permissionFor('create_user'))).toMatchObject({
      allowed: true,
    })
    expect(decideAdministration(index, 'debra', permissionFor('role.define'))).toMatchObject({
      allowed: false,
      reason: 'it needs the role_admin permission (or admin), which debra does not hold',
    })
    expect(decideAdministration(index, 'debra', permissionFor('read_audit'))).toMatchObject({
      allowed: false,
      reason: 'it needs the admin permission, which debra does not hold',
    })
    expect(decideAdministration(index, 'root', permissionFor('role.define'))).toMatchObject({ allowed: true })
    expect(decideAdministration(index, 'sam', 'user_admin')).toMatchObject({ allowed: false })
  })
})

describe('decideScope', () => {
  it('refuses to grant or change what carries an administrative permission the actor lacks', () => {
    const refused = (actor: string, touched: Parameters<typeof decideScope>[2]) =>
      decideScope(index, actor, touched).allowed === false
    expect(refused('debra', { users: ['sam'], entitlements: ['super_role'] })).toBe(true)
    expect(refused('debra', { users: ['sam'], entitlements: ['admin'] })).toBe(true)
    expect(refused('debra', { users: ['root'] })).toBe(true)
    expect(refused('debra', { users: ['rita'] })).toBe(true)
    expect(refused('rita', { entitlements: ['admin_role', 'control_oven'] })).toBe(true)
    // Within its powers: what carries only user_admin, ordinary users and entitlements; admin may do anything.
    expect(refused('debra', { users: ['sam', 'debra'], entitlements: ['admin_role', 'house1_admins'] })).toBe(
      false,
    )
    expect(refused('rita', { entitlements: ['control_oven', 'role_admin'] })).toBe(false)
    expect(refused('root', { users: ['debra'], entitlements: ['top'] })).toBe(false)
  })
})
