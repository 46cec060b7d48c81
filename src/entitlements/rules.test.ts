import { describe, expect, it } from 'vitest'
import type { GrantKind } from '../store/schema.js'
import type { Change, PlannedChange } from '../store/store.js'
import { EntitlementIndex } from './entitlement-index.js'
import { decideAccess, explainDenial } from './rules.js'

const AT = '2026-11-23T10:00:00.000Z'

/** Applies `changes` to `index` with revisions following its current one. */
function applyAll(index: EntitlementIndex, changes: PlannedChange[]): EntitlementIndex {
  const start = index.revision
  index.apply(changes.map((change, i) => ({ ...change, revision: start + i + 1, at: AT }) as Change))
  return index
}

const indexOf = (changes: PlannedChange[]) => applyAll(new EntitlementIndex(), changes)

// Small builders for the rows the tests need.
const permission = (id: string, builtin = 0): PlannedChange => ({
  tbl: 'permissions',
  op: 'put',
  row: { id, name: id, description: id, builtin },
})
const role = (id: string): PlannedChange => ({
  tbl: 'roles',
  op: 'put',
  row: { id, name: id, description: id },
})
const roleHolds = (roleId: string, kind: 'role' | 'permission', id: string): PlannedChange => ({
  tbl: 'role_entitlements',
  op: 'put',
  row: { role_id: roleId, entitlement_kind: kind, entitlement_id: id },
})
const user = (id: string): PlannedChange => ({ tbl: 'users', op: 'put', row: { id, name: id } })
const grant = (
  userId: string,
  kind: GrantKind,
  target: string,
  op: 'put' | 'delete' = 'put',
): PlannedChange => ({
  tbl: 'user_grants',
  op,
  row: { user_id: userId, grant_kind: kind, target_id: target },
})
const resource = (id: string, parent: string | null = null): PlannedChange => ({
  tbl: 'resources',
  op: 'put',
  row: { id, description: id, parent_id: parent },
})
const resourceRole = (id: string, roleId: string, resourceId: string): PlannedChange => ({
  tbl: 'resource_roles',
  op: 'put',
  row: { id, role_id: roleId, resource_id: resourceId },
})

/** The seed's House Mate data, with a kitchen and an oven inside house1 and a second house. */
function houseMate(): EntitlementIndex {
  return indexOf([
    permission('admin', 1),
    ...['user_admin', 'control_oven', 'control_thermostat', 'control_door', 'control_window'].map((p) =>
      permission(p),
    ),
    role('adult_resident'),
    role('child_resident'),
    role('admin_role'),
    ...['user_admin', 'control_oven', 'control_thermostat', 'control_door', 'control_window'].map((p) =>
      roleHolds('admin_role', 'permission', p),
    ),
    roleHolds('adult_resident', 'permission', 'control_oven'),
    roleHolds('adult_resident', 'permission', 'control_thermostat'),
    roleHolds('adult_resident', 'role', 'child_resident'),
    roleHolds('child_resident', 'permission', 'control_door'),
    roleHolds('child_resident', 'permission', 'control_window'),
    user('sam'),
    user('jimmy'),
    user('debra'),
    user('root'),
    grant('debra', 'role', 'admin_role'),
    grant('root', 'permission', 'admin'),
    resource('house1'),
    resource('house1_kitchen', 'house1'),
    resource('house1_oven', 'house1_kitchen'),
    resource('house2'),
    resourceRole('adult_resident_house1', 'adult_resident', 'house1'),
    resourceRole('child_resident_house1', 'child_resident', 'house1'),
    grant('sam', 'resource_role', 'adult_resident_house1'),
    grant('jimmy', 'resource_role', 'child_resident_house1'),
  ])
}

describe('decideAccess', () => {
  it('allows a permission held through a plain role on any resource', () => {
    const index = houseMate()
    const decision = decideAccess(index, 'debra', 'control_oven', 'house2')
    expect(decision).toEqual({
      allowed: true,
      reason: 'debra holds control_oven',
      obligations: [],
      revision: index.revision,
    })
  })

  it('allows a permission held directly', () => {
    const index = applyAll(houseMate(), [grant('jimmy', 'permission', 'control_thermostat')])
    expect(decideAccess(index, 'jimmy', 'control_thermostat', 'house2').allowed).toBe(true)
  })

  it('expands nested roles', () => {
    const index = applyAll(houseMate(), [user('kim'), grant('kim', 'role', 'adult_resident')])
    // adult_resident holds child_resident, which holds control_door.
    expect(decideAccess(index, 'kim', 'control_door', 'anywhere')).toMatchObject({
      allowed: true,
      reason: 'kim holds control_door',
    })
    expect(decideAccess(index, 'kim', 'user_admin', 'anywhere').allowed).toBe(false)
  })

  it('expands roles nested several levels deep', () => {
    const index = applyAll(houseMate(), [
      role('guardian'),
      roleHolds('guardian', 'role', 'adult_resident'),
      user('kim'),
      grant('kim', 'role', 'guardian'),
    ])
    expect(decideAccess(index, 'kim', 'control_window', 'x').allowed).toBe(true)
  })

  it('allows a resource role on the resource it is bound to', () => {
    const decision = decideAccess(houseMate(), 'sam', 'control_oven', 'house1')
    expect(decision).toMatchObject({ allowed: true, reason: 'sam holds control_oven on house1' })
  })

  it('allows a resource role on a parent for its children and grandchildren', () => {
    const index = houseMate()
    expect(decideAccess(index, 'sam', 'control_oven', 'house1_kitchen')).toMatchObject({
      allowed: true,
      reason: 'sam holds control_oven on house1, which contains house1_kitchen',
    })
    expect(decideAccess(index, 'sam', 'control_oven', 'house1_oven')).toMatchObject({
      allowed: true,
      reason: 'sam holds control_oven on house1, which contains house1_oven',
    })
    // Nested roles count inside a resource role too.
    expect(decideAccess(index, 'sam', 'control_door', 'house1_oven').allowed).toBe(true)
  })

  it('does not let a resource role on a child cover its parent or a sibling', () => {
    const index = applyAll(houseMate(), [
      resource('house1_garage', 'house1'),
      resourceRole('adult_kitchen', 'adult_resident', 'house1_kitchen'),
      user('kim'),
      grant('kim', 'resource_role', 'adult_kitchen'),
    ])
    expect(decideAccess(index, 'kim', 'control_oven', 'house1_oven').allowed).toBe(true)
    expect(decideAccess(index, 'kim', 'control_oven', 'house1').allowed).toBe(false)
    expect(decideAccess(index, 'kim', 'control_oven', 'house1_garage').allowed).toBe(false)
  })

  it('refuses a resource role on another resource', () => {
    const decision = decideAccess(houseMate(), 'sam', 'control_oven', 'house2')
    expect(decision.allowed).toBe(false)
    expect(decision.reason).toBe('sam holds no permission that applies to house2, so not control_oven')
  })

  it('lets the admin permission allow every permission, even undefined ones, everywhere', () => {
    const index = houseMate()
    for (const [p, r] of [
      ['control_oven', 'house2'],
      ['launch_rocket', 'nowhere'],
    ] as const) {
      const decision = decideAccess(index, 'root', p, r)
      expect(decision.allowed).toBe(true)
      expect(decision.reason).toBe('root holds admin, which allows every permission')
    }
  })

  it('refuses a user who does not exist', () => {
    const index = houseMate()
    expect(decideAccess(index, 'ghost', 'control_oven', 'house1')).toEqual({
      allowed: false,
      reason: 'user ghost does not exist',
      obligations: [],
      revision: index.revision,
    })
  })

  it('explains a denial by what the user does hold there', () => {
    const decision = decideAccess(houseMate(), 'jimmy', 'control_oven', 'house1')
    expect(decision.allowed).toBe(false)
    expect(decision.reason).toBe(
      'jimmy holds control_door, control_window on house1; control_oven is not among them',
    )
  })

  it('names the containing resource in a denial on a child', () => {
    const decision = decideAccess(houseMate(), 'jimmy', 'control_oven', 'house1_oven')
    expect(decision.reason).toBe(
      'jimmy holds control_door, control_window on house1 (which contains house1_oven); control_oven is not among them',
    )
  })

  it('lists global permissions and resource permissions together', () => {
    const index = applyAll(houseMate(), [grant('jimmy', 'permission', 'user_admin')])
    expect(decideAccess(index, 'jimmy', 'control_oven', 'house1').reason).toBe(
      'jimmy holds user_admin on every resource and control_door, control_window on house1; control_oven is not among them',
    )
  })

  it('notes a permission that is not defined', () => {
    expect(decideAccess(houseMate(), 'jimmy', 'fly', 'house1').reason).toBe(
      'jimmy holds control_door, control_window on house1; fly is not among them (fly is not a defined permission)',
    )
  })

  it('notes a resource that is not registered', () => {
    expect(decideAccess(houseMate(), 'jimmy', 'control_door', 'house9').reason).toBe(
      'jimmy holds no permission that applies to house9, so not control_door (house9 is not a registered resource)',
    )
  })

  it('notes both an undefined permission and an unregistered resource', () => {
    expect(explainDenial(houseMate(), 'sam', 'fly', 'house9')).toBe(
      'sam holds no permission that applies to house9, so not fly (fly is not a defined permission; house9 is not a registered resource)',
    )
  })

  it('returns on a resource parent loop instead of hanging', () => {
    const index = applyAll(houseMate(), [
      resource('loop_a', 'loop_b'),
      resource('loop_b', 'loop_a'),
      resourceRole('child_loop_b', 'child_resident', 'loop_b'),
      grant('jimmy', 'resource_role', 'child_loop_b'),
    ])
    // Found through the loop (loop_b contains loop_a).
    expect(decideAccess(index, 'jimmy', 'control_door', 'loop_a').allowed).toBe(true)
    // Not held anywhere on the loop: the walk must end.
    const decision = decideAccess(index, 'jimmy', 'control_oven', 'loop_a')
    expect(decision.allowed).toBe(false)
    expect(decision.reason).toMatch(
      /^jimmy holds control_door, control_window on loop_b \(which contains loop_a\)/,
    )
  })

  it('names each resource of a parent loop once in a denial', () => {
    const index = applyAll(houseMate(), [
      resource('loop_a', 'loop_b'),
      resource('loop_b', 'loop_a'),
      resourceRole('child_loop_b', 'child_resident', 'loop_b'),
      grant('jimmy', 'resource_role', 'child_loop_b'),
    ])
    const reason = decideAccess(index, 'jimmy', 'control_oven', 'loop_a').reason
    expect(reason.split('on loop_b').length - 1, 'times loop_b is named').toBe(1)
    expect(reason).toBe(
      'jimmy holds control_door, control_window on loop_b (which contains loop_a); control_oven is not among them',
    )
  })

  it('reports the revision the decision was taken at', () => {
    const index = houseMate()
    const before = index.revision
    applyAll(index, [user('kim')])
    expect(decideAccess(index, 'sam', 'control_oven', 'house1').revision).toBe(before + 1)
  })
})

describe('EntitlementIndex', () => {
  it('lists a resource and its ancestors, nearest first', () => {
    expect([...houseMate().lineage('house1_oven')]).toEqual(['house1_oven', 'house1_kitchen', 'house1'])
    expect([...houseMate().lineage('unregistered')]).toEqual(['unregistered'])
  })

  it('stops the lineage at a parent loop', () => {
    const index = indexOf([resource('a', 'c'), resource('b', 'a'), resource('c', 'b')])
    const ids = [...index.lineage('a')]
    expect(ids).toHaveLength(3)
    expect(ids).toEqual(['a', 'c', 'b'])
  })

  it('tolerates a role cycle when expanding roles', () => {
    const index = indexOf([
      permission('p'),
      role('r1'),
      role('r2'),
      roleHolds('r1', 'role', 'r2'),
      roleHolds('r2', 'role', 'r1'),
      roleHolds('r2', 'permission', 'p'),
    ])
    expect([...index.permissionsOfRole('r1')]).toEqual(['p'])
  })

  it('applies a deleted user grant', () => {
    const index = houseMate()
    expect(decideAccess(index, 'sam', 'control_oven', 'house1').allowed).toBe(true)
    applyAll(index, [grant('sam', 'resource_role', 'adult_resident_house1', 'delete')])
    expect(index.userResourceRoles.has('sam')).toBe(false)
    expect(decideAccess(index, 'sam', 'control_oven', 'house1').allowed).toBe(false)
  })

  it('applies a deleted role entitlement', () => {
    const index = houseMate()
    expect(decideAccess(index, 'jimmy', 'control_door', 'house1').allowed).toBe(true)
    applyAll(index, [
      {
        tbl: 'role_entitlements',
        op: 'delete',
        row: { role_id: 'child_resident', entitlement_kind: 'permission', entitlement_id: 'control_door' },
      },
    ])
    expect(index.rolePermissions.get('child_resident')).toEqual(new Set(['control_window']))
    expect(decideAccess(index, 'jimmy', 'control_door', 'house1').allowed).toBe(false)
    expect(decideAccess(index, 'jimmy', 'control_window', 'house1').allowed).toBe(true)
    // The nested role's change reaches users of the role that holds it.
    expect(decideAccess(index, 'sam', 'control_door', 'house1').allowed).toBe(false)
  })

  it('applies a deleted nested role entitlement', () => {
    const index = houseMate()
    applyAll(index, [
      {
        tbl: 'role_entitlements',
        op: 'delete',
        row: { role_id: 'adult_resident', entitlement_kind: 'role', entitlement_id: 'child_resident' },
      },
    ])
    expect(index.roleRoles.has('adult_resident')).toBe(false)
    expect(decideAccess(index, 'sam', 'control_window', 'house1').allowed).toBe(false)
    expect(decideAccess(index, 'sam', 'control_oven', 'house1').allowed).toBe(true)
  })

  it('applies put and deleted credentials, password and voice print', () => {
    const index = indexOf([
      user('sam'),
      {
        tbl: 'credentials',
        op: 'put',
        row: { user_id: 'sam', kind: 'password', secret_hash: '$argon2id$x' },
      },
      { tbl: 'credentials', op: 'put', row: { user_id: 'sam', kind: 'voice_print', secret_hash: 'digest1' } },
    ])
    expect(index.passwordHashes.get('sam')).toBe('$argon2id$x')
    expect(index.voicePrints.get('digest1')).toBe('sam')
    // A new voice print replaces the old one in both directions.
    applyAll(index, [
      { tbl: 'credentials', op: 'put', row: { user_id: 'sam', kind: 'voice_print', secret_hash: 'digest2' } },
    ])
    expect([...index.voicePrints]).toEqual([['digest2', 'sam']])
    expect(index.voicePrintOf.get('sam')).toBe('digest2')
    applyAll(index, [
      { tbl: 'credentials', op: 'delete', row: { user_id: 'sam', kind: 'voice_print' } },
      { tbl: 'credentials', op: 'delete', row: { user_id: 'sam', kind: 'password' } },
    ])
    expect(index.voicePrints.size).toBe(0)
    expect(index.voicePrintOf.size).toBe(0)
    expect(index.passwordHashes.size).toBe(0)
  })

  it('applies deletes of rows kept by id', () => {
    const index = houseMate()
    applyAll(index, [{ tbl: 'users', op: 'delete', row: { id: 'jimmy' } }])
    expect(index.users.has('jimmy')).toBe(false)
    expect(decideAccess(index, 'jimmy', 'control_door', 'house1').reason).toBe('user jimmy does not exist')
  })

  it('skips changes at or below the revision it already stands at', () => {
    const index = houseMate()
    const revision = index.revision
    index.apply([
      { ...grant('sam', 'resource_role', 'adult_resident_house1', 'delete'), revision, at: AT } as Change,
    ])
    index.apply([{ ...user('ghost'), revision: revision - 5, at: AT } as Change])
    expect(index.revision).toBe(revision)
    expect(index.users.has('ghost')).toBe(false)
    expect(decideAccess(index, 'sam', 'control_oven', 'house1').allowed).toBe(true)
    // A batch that overlaps what was applied takes only the new changes.
    index.apply([
      { ...user('ghost'), revision, at: AT } as Change,
      { ...user('kim'), revision: revision + 1, at: AT } as Change,
    ])
    expect(index.revision).toBe(revision + 1)
    expect(index.users.has('ghost')).toBe(false)
    expect(index.users.has('kim')).toBe(true)
  })

  it('sees a grant added after a first check (caches are dropped)', () => {
    const index = houseMate()
    expect(decideAccess(index, 'jimmy', 'control_oven', 'house1').allowed).toBe(false)
    applyAll(index, [grant('jimmy', 'resource_role', 'adult_resident_house1')])
    expect(decideAccess(index, 'jimmy', 'control_oven', 'house1').allowed).toBe(true)
  })

  it('sees a permission added to a role after a first check', () => {
    const index = houseMate()
    expect(decideAccess(index, 'jimmy', 'control_thermostat', 'house1').allowed).toBe(false)
    applyAll(index, [roleHolds('child_resident', 'permission', 'control_thermostat')])
    expect(decideAccess(index, 'jimmy', 'control_thermostat', 'house1').allowed).toBe(true)
    expect(index.permissionsOfRole('adult_resident').has('control_thermostat')).toBe(true)
  })

  it('is in bootstrap mode exactly while no user who can log in holds admin', () => {
    const index = indexOf([
      permission('admin', 1),
      role('admins'),
      roleHolds('admins', 'permission', 'admin'),
      user('root'),
      user('service'),
      {
        tbl: 'user_grants',
        op: 'put',
        row: { user_id: 'service', grant_kind: 'permission', target_id: 'admin' },
      },
    ])
    expect(index.isBootstrap()).toBe(true) // service holds admin but has no credential
    applyAll(index, [
      { tbl: 'credentials', op: 'put', row: { user_id: 'root', kind: 'password', secret_hash: 'h' } },
    ])
    expect(index.isBootstrap()).toBe(true)
    applyAll(index, [grant('root', 'role', 'admins')])
    expect(index.isBootstrap()).toBe(false)
    applyAll(index, [grant('root', 'role', 'admins', 'delete')])
    expect(index.isBootstrap()).toBe(true)
    applyAll(index, [grant('root', 'permission', 'admin')])
    expect(index.isBootstrap()).toBe(false)
    applyAll(index, [{ tbl: 'users', op: 'delete', row: { id: 'root' } }])
    expect(index.isBootstrap()).toBe(true)
  })

  it('does not count admin held through a resource role as an administrator', () => {
    const index = indexOf([
      permission('admin', 1),
      role('admins'),
      roleHolds('admins', 'permission', 'admin'),
      user('kim'),
      resource('house1'),
      resourceRole('admins_house1', 'admins', 'house1'),
      grant('kim', 'resource_role', 'admins_house1'),
    ])
    expect(index.isBootstrap()).toBe(true)
  })

  it('builds the same state from a snapshot', () => {
    const index = EntitlementIndex.fromSnapshot({
      revision: 7,
      rows: {
        permissions: [{ id: 'p', name: 'p', description: 'p', builtin: 0 }],
        roles: [{ id: 'r', name: 'r', description: 'r' }],
        role_entitlements: [{ role_id: 'r', entitlement_kind: 'permission', entitlement_id: 'p' }],
        users: [{ id: 'u', name: 'u' }],
        credentials: [],
        user_grants: [{ user_id: 'u', grant_kind: 'role', target_id: 'r' }],
        hm_houses: [],
        hm_rooms: [],
        hm_occupants: [],
        hm_house_occupants: [],
        hm_devices: [],
        hm_device_status: [],
        espi_customers: [],
        espi_usage_points: [],
        espi_third_parties: [],
        espi_authorizations: [],
        ib1_participants: [],
        ib1_services: [],
        ib1_licences: [],
        ishare_policies: [],
        bdi_associations: [],
        bdi_parties: [],
        bdi_memberships: [],
        bdi_services: [],
        resources: [],
        resource_roles: [],
        access_tokens: [],
      },
    })
    expect(index.revision).toBe(7)
    expect(decideAccess(index, 'u', 'p', 'anything').allowed).toBe(true)
  })
})
