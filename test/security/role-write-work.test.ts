import { describe, expect, it, vi } from 'vitest'
import { EntitlementIndex } from '../../src/entitlements/entitlement-index.js'
import { decideAccess } from '../../src/entitlements/rules.js'
import type { Change, PlannedChange } from '../../src/store/store.js'

/**
 * How much work one administrative write can cause: a permission added to a role, or a resource role bound
 * to another role, must not make the Index visit the users who hold it. It used to walk every user asked about
 * so far, testing each one's grants against every resource role bound to the role: with a million users and
 * a role bound in 100,000 households, one such write stalled the node for minutes. Now it reads no user's
 * grants at all, and what each user holds is worked out again when next asked.
 */
describe('a write to a role does work that does not grow with the users holding it', () => {
  const HOUSES = 500
  const put = (tbl: PlannedChange['tbl'], row: object): PlannedChange =>
    ({ tbl, op: 'put', row }) as PlannedChange

  /** HOUSES households, each with its own resource role binding `child` there and two users granted it. */
  function households(): EntitlementIndex {
    const changes: PlannedChange[] = [
      put('permissions', { id: 'control_door', name: 'door', description: '', builtin: 0 }),
      put('permissions', { id: 'control_oven', name: 'oven', description: '', builtin: 0 }),
      put('roles', { id: 'child', name: 'Child', description: '' }),
      put('role_entitlements', {
        role_id: 'child',
        entitlement_kind: 'permission',
        entitlement_id: 'control_door',
      }),
      put('roles', { id: 'adult', name: 'Adult', description: '' }),
      put('role_entitlements', {
        role_id: 'adult',
        entitlement_kind: 'permission',
        entitlement_id: 'control_oven',
      }),
    ]
    for (let h = 0; h < HOUSES; h++) {
      changes.push(put('resources', { id: `house${h}`, description: '', parent_id: null }))
      changes.push(put('resources', { id: `house${h}_room`, description: '', parent_id: `house${h}` }))
      changes.push(
        put('resource_roles', { id: `house${h}_child`, role_id: 'child', resource_id: `house${h}` }),
      )
      for (const k of [0, 1]) {
        changes.push(put('users', { id: `user${h}_${k}`, name: 'someone' }))
        changes.push(
          put('user_grants', {
            user_id: `user${h}_${k}`,
            grant_kind: 'resource_role',
            target_id: `house${h}_child`,
          }),
        )
      }
    }
    const index = new EntitlementIndex()
    index.apply(changes.map((change, i) => ({ ...change, revision: i + 1, at: '' }) as Change))
    return index
  }

  /** Applies `change` with every read of a user's grants counted; the count. */
  function grantReadsOf(index: EntitlementIndex, change: PlannedChange): number {
    const reads = [
      vi.spyOn(index.userRoles, 'get'),
      vi.spyOn(index.userPermissions, 'get'),
      vi.spyOn(index.userResourceRoles, 'get'),
    ]
    index.apply([{ ...change, revision: index.revision + 1, at: '' } as Change])
    const count = reads.reduce((sum, spy) => sum + spy.mock.calls.length, 0)
    for (const spy of reads) spy.mockRestore()
    return count
  }

  it('adds a permission to a role bound in every household without visiting its holders', () => {
    const index = households()
    for (let h = 0; h < HOUSES; h++)
      expect(decideAccess(index, `user${h}_0`, 'control_door', `house${h}_room`).allowed).toBe(true)
    expect(decideAccess(index, 'user7_1', 'control_oven', 'house7_room').allowed).toBe(false)

    const change = put('role_entitlements', {
      role_id: 'child',
      entitlement_kind: 'permission',
      entitlement_id: 'control_oven',
    })
    expect(grantReadsOf(index, change)).toBe(0)
    // Every holder sees the change on its next decision, and only on its own household.
    for (let h = 0; h < HOUSES; h++)
      expect(decideAccess(index, `user${h}_1`, 'control_oven', `house${h}_room`).allowed).toBe(true)
    expect(decideAccess(index, 'user7_1', 'control_oven', 'house8_room').allowed).toBe(false)
  })

  it('binds a resource role to another role without visiting the users granted it', () => {
    const index = households()
    expect(decideAccess(index, 'user3_0', 'control_door', 'house3').allowed).toBe(true)
    expect(
      grantReadsOf(
        index,
        put('resource_roles', { id: 'house3_child', role_id: 'adult', resource_id: 'house3' }),
      ),
    ).toBe(0)
    expect(decideAccess(index, 'user3_0', 'control_door', 'house3').allowed).toBe(false)
    expect(decideAccess(index, 'user3_1', 'control_oven', 'house3_room').allowed).toBe(true)
    expect(decideAccess(index, 'user4_0', 'control_door', 'house4').allowed).toBe(true)
  })
})
