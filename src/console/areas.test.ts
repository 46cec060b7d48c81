import { describe, expect, it } from 'vitest'
import { applyAll } from '../../test/decisions/adapters/adapter.js'
import { entitlementRows } from '../../test/decisions/adapters/entitlements.js'
import { EntitlementIndex } from '../entitlements/entitlement-index.js'
import { areasOf } from './areas.js'

// The navigation is the administration table's answer for each area's operation: a holder of one narrower
// permission sees its areas only; a resource role carrying it counts for nothing, as for the operations.
const index = applyAll(
  new EntitlementIndex(),
  entitlementRows({
    builtin: ['admin'],
    permissions: ['user_admin', 'third_party_admin', 'control_oven'],
    roles: { people: ['user_admin'], top: ['admin'] },
    resources: { house1: null },
    resource_roles: { house1_people: { role: 'people', on: 'house1' } },
    users: {
      debra: ['role:people'],
      tess: ['permission:third_party_admin'],
      root: ['role:top'],
      sam: ['resource_role:house1_people'],
      cook: ['permission:control_oven'],
    },
  }),
)
const labels = (user: string) => areasOf(index, user).map((a) => a.label)

describe('the console areas a user may use', () => {
  it('are those its administrative permissions allow, every one for admin', () => {
    expect(labels('debra')).toEqual(['Users'])
    expect(labels('tess')).toEqual(['Third parties', 'Authorizations', 'Outbox'])
    expect(labels('root')).toEqual([
      'Users',
      'Permissions',
      'Roles',
      'Resources',
      'Resource roles',
      'Home model',
      'Explain a decision',
      'Third parties',
      'Authorizations',
      'Customers',
      'Outbox',
      'Publication',
      'Catalog',
      'Participants and access',
      'Delegation policies',
      'Trust network',
      'Audit log',
    ])
  })

  it('are none for a resource role carrying a permission, nor for a user who administers nothing', () => {
    expect(labels('sam')).toEqual([])
    expect(labels('cook')).toEqual([])
    expect(labels('nobody')).toEqual([])
  })
})
