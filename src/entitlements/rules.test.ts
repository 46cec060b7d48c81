import { describe, expect, it } from 'vitest'
import { applyAll } from '../../test/decisions/adapters/adapter.js'
import { entitlementRows as rows } from '../../test/decisions/adapters/entitlements.js'
import { readTable } from '../../test/decisions/tables.js'
import type { Change, PlannedChange } from '../store/store.js'
import { EntitlementIndex } from './entitlement-index.js'
import { decideAccess } from './rules.js'

// The decisions themselves are tables: test/decisions/entitlements/*.yaml. Here: what the Index keeps.

const AT = '2026-11-23T10:00:00.000Z'

// Rows are written in the tables' vocabulary (see test/decisions/adapters/entitlements.ts).
const indexOf = (fragment: unknown) => applyAll(new EntitlementIndex(), rows(fragment))
const HOUSE_MATE = readTable(new URL('../../test/decisions/entitlements/access-checks.yaml', import.meta.url))

/** The seed's House Mate data, with a kitchen and an oven inside house1 and a second house. */
const houseMate = () => indexOf(HOUSE_MATE.model)

describe('EntitlementIndex', () => {
  it('lists a resource and its ancestors, nearest first', () => {
    expect([...houseMate().lineage('house1_oven')]).toEqual(['house1_oven', 'house1_kitchen', 'house1'])
    expect([...houseMate().lineage('unregistered')]).toEqual(['unregistered'])
  })

  it('stops the lineage at a parent loop', () => {
    const index = indexOf({ resources: { a: 'c', b: 'a', c: 'b' } })
    const ids = [...index.lineage('a')]
    expect(ids).toHaveLength(3)
    expect(ids).toEqual(['a', 'c', 'b'])
  })

  it('tolerates a role cycle when expanding roles', () => {
    const index = indexOf({ permissions: ['p'], roles: { r1: ['role:r2'], r2: ['role:r1', 'p'] } })
    expect([...index.permissionsOfRole('r1')]).toEqual(['p'])
  })

  // What each delete does to decisions is in the tables (access-checks.yaml, "applies a deleted ...").
  it('applies a deleted user grant', () => {
    const index = houseMate()
    applyAll(index, rows({ users: { sam: ['resource_role:adult_resident_house1'] } }, 'delete'))
    expect(index.userResourceRoles.has('sam')).toBe(false)
  })

  it('applies a deleted role entitlement', () => {
    const index = applyAll(houseMate(), rows({ roles: { child_resident: ['control_door'] } }, 'delete'))
    expect(index.rolePermissions.get('child_resident')).toEqual(new Set(['control_window']))
  })

  it('applies a deleted nested role entitlement', () => {
    const index = applyAll(
      houseMate(),
      rows({ roles: { adult_resident: ['role:child_resident'] } }, 'delete'),
    )
    expect(index.roleRoles.has('adult_resident')).toBe(false)
  })

  it('applies put and deleted credentials, password and voice print', () => {
    const index = indexOf({ users: { sam: [] } })
    applyAll(index, [
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
    const index = applyAll(houseMate(), [{ tbl: 'users', op: 'delete', row: { id: 'jimmy' } }])
    expect(index.users.has('jimmy')).toBe(false)
  })

  it('skips changes at or below the revision it already stands at', () => {
    const index = houseMate()
    const revision = index.revision
    const at = (change: PlannedChange | undefined, r: number) =>
      ({ ...change, revision: r, at: AT }) as Change
    const [dropSam] = rows({ users: { sam: ['resource_role:adult_resident_house1'] } }, 'delete')
    const [ghost] = rows({ users: { ghost: [] } })
    index.apply([at(dropSam, revision)])
    index.apply([at(ghost, revision - 5)])
    expect(index.revision).toBe(revision)
    expect(index.users.has('ghost')).toBe(false)
    expect(decideAccess(index, 'sam', 'control_oven', 'house1').allowed).toBe(true)
    // A batch that overlaps what was applied takes only the new changes.
    index.apply([at(ghost, revision), at(rows({ users: { kim: [] } })[0], revision + 1)])
    expect(index.revision).toBe(revision + 1)
    expect(index.users.has('ghost')).toBe(false)
    expect(index.users.has('kim')).toBe(true)
  })

  it('expands a permission added to a role into the roles that hold it', () => {
    const index = houseMate()
    expect(index.permissionsOfRole('adult_resident').has('control_thermostat')).toBe(true)
    applyAll(index, rows({ roles: { child_resident: ['user_admin'] } }))
    expect(index.permissionsOfRole('adult_resident').has('user_admin')).toBe(true)
  })

  it('is in bootstrap mode exactly while no user who can log in holds admin', () => {
    const admins = { roles: { admins: ['admin'] } }
    const index = indexOf({
      builtin: ['admin'],
      ...admins,
      users: { root: [], service: ['permission:admin'] },
    })
    expect(index.isBootstrap()).toBe(true) // service holds admin but has no credential
    applyAll(index, [
      { tbl: 'credentials', op: 'put', row: { user_id: 'root', kind: 'password', secret_hash: 'h' } },
    ])
    expect(index.isBootstrap()).toBe(true)
    applyAll(index, rows({ users: { root: ['role:admins'] } }))
    expect(index.isBootstrap()).toBe(false)
    applyAll(index, rows({ users: { root: ['role:admins'] } }, 'delete'))
    expect(index.isBootstrap()).toBe(true)
    applyAll(index, rows({ users: { root: ['permission:admin'] } }))
    expect(index.isBootstrap()).toBe(false)
    applyAll(index, rows({ users: { root: [] } }, 'delete'))
    expect(index.isBootstrap()).toBe(true)
  })

  it('does not count admin held through a resource role as an administrator', () => {
    const index = indexOf({
      builtin: ['admin'],
      roles: { admins: ['admin'] },
      resources: { house1: null },
      resource_roles: { admins_house1: { role: 'admins', on: 'house1' } },
      users: { kim: ['resource_role:admins_house1'] },
    })
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
