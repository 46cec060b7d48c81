import { describe, expect, it } from 'vitest'
import { fromSnapshot } from '../kernel/projections.js'
import type { Change, PlannedChange, Snapshot } from '../store/store.js'
import {
  deleteRole,
  deleteUser,
  removeCredential,
  removeEntitlementFromRole,
  revokeGrant,
} from './changes.js'
import { EntitlementIndex } from './entitlement-index.js'

// A user's grants written keep what every other user holds, as worked out; a role's written has it worked out
// again; the administrators are kept up to date. Each test compares the index, written to step by step with
// its caches warm, with a fresh index built from every row.

const user = (id: string, op: 'put' | 'delete' = 'put'): PlannedChange =>
  ({ tbl: 'users', op, row: op === 'put' ? { id, name: id } : { id } }) as PlannedChange
const password = (userId: string, op: 'put' | 'delete' = 'put'): PlannedChange =>
  ({
    tbl: 'credentials',
    op,
    row: { user_id: userId, kind: 'password', secret_hash: `h-${userId}` },
  }) as PlannedChange
const grant = (
  userId: string,
  kind: 'role' | 'permission' | 'resource_role',
  target: string,
  op: 'put' | 'delete' = 'put',
): PlannedChange =>
  ({ tbl: 'user_grants', op, row: { user_id: userId, grant_kind: kind, target_id: target } }) as PlannedChange
const holds = (
  roleId: string,
  kind: 'role' | 'permission',
  id: string,
  op: 'put' | 'delete' = 'put',
): PlannedChange =>
  ({
    tbl: 'role_entitlements',
    op,
    row: { role_id: roleId, entitlement_kind: kind, entitlement_id: id },
  }) as PlannedChange
const resourceRole = (id: string, roleId: string, resourceId: string, op: 'put' | 'delete' = 'put') =>
  ({
    tbl: 'resource_roles',
    op,
    row: op === 'put' ? { id, role_id: roleId, resource_id: resourceId } : { id },
  }) as PlannedChange

/** An index and the log of every change given to it, so a fresh copy can be built to compare with. */
class Logged {
  readonly index = new EntitlementIndex()
  readonly log: PlannedChange[] = []

  write(...changes: PlannedChange[]): this {
    const start = this.log.length
    this.log.push(...changes)
    this.index.apply(changes.map((c, i) => ({ ...c, revision: start + i + 1, at: '' }) as Change))
    return this
  }

  fresh(): EntitlementIndex {
    const index = new EntitlementIndex()
    index.apply(this.log.map((c, i) => ({ ...c, revision: i + 1, at: '' }) as Change))
    return index
  }

  /** Every user's entitlements and the administrators, as the index answers them and as a fresh one does. */
  expectSameAsFresh(): void {
    const fresh = this.fresh()
    const view = (index: EntitlementIndex, id: string) => {
      const held = index.held(id)
      if (!held) return undefined
      return {
        global: [...held.global].sort(),
        byResource: [...held.byResource].map(([r, s]) => [r, [...s].sort()]).sort(),
      }
    }
    const ids = new Set([...this.index.users.keys(), ...fresh.users.keys(), 'gone'])
    for (const id of ids) expect(view(this.index, id), id).toEqual(view(fresh, id))
    expect([...this.index.administrators()].sort()).toEqual([...fresh.administrators()].sort())
    expect(this.index.isBootstrap()).toBe(fresh.isBootstrap())
  }
}

const base = () =>
  new Logged().write(
    user('ann'),
    user('bob'),
    user('cat'),
    user('dan'),
    holds('inner', 'permission', 'read'),
    holds('outer', 'role', 'inner'),
    holds('outer', 'permission', 'write'),
    grant('ann', 'role', 'outer'),
    grant('bob', 'role', 'inner'),
    resourceRole('outer_at_house1', 'outer', 'house1'),
    grant('cat', 'resource_role', 'outer_at_house1'),
    grant('dan', 'permission', 'read'),
  )

describe('EntitlementIndex caches', () => {
  it("keeps other users' cached entitlements when one user's grants change", () => {
    const logged = base()
    const { index } = logged
    const ann = index.effective('ann')
    const bob = index.effective('bob')
    logged.write(grant('dan', 'permission', 'write'))
    expect(index.effective('ann')).toBe(ann)
    expect(index.effective('bob')).toBe(bob)
    expect([...index.effective('dan').global].sort()).toEqual(['read', 'write'])
    logged.write(grant('dan', 'permission', 'read', 'delete'))
    expect([...index.effective('dan').global]).toEqual(['write'])
    expect(index.effective('ann')).toBe(ann)
    logged.expectSameAsFresh()
  })

  it('carries a change to a nested role to the holders of every role containing it, and no further', () => {
    const logged = base()
    const { index } = logged
    for (const id of ['ann', 'bob', 'cat', 'dan']) index.effective(id)
    logged.write(holds('inner', 'permission', 'delete'))
    expect(index.effective('ann').global.has('delete')).toBe(true)
    expect(index.effective('bob').global.has('delete')).toBe(true)
    expect(index.effective('cat').byResource.get('house1')?.has('delete')).toBe(true)
    expect([...index.effective('dan').global]).toEqual(['read'])
    logged.expectSameAsFresh()

    logged.write(holds('outer', 'role', 'inner', 'delete'))
    expect([...index.effective('ann').global]).toEqual(['write'])
    expect(index.effective('bob').global.has('read')).toBe(true)
    expect([...(index.effective('cat').byResource.get('house1') ?? [])]).toEqual(['write'])
    logged.expectSameAsFresh()
  })

  it('carries a resource role rebound or deleted to its holders', () => {
    const logged = base()
    const { index } = logged
    index.effective('cat')
    logged.write(resourceRole('outer_at_house1', 'inner', 'house2'))
    expect([...index.effective('cat').byResource.keys()]).toEqual(['house2'])
    logged.expectSameAsFresh()
    logged.write(resourceRole('outer_at_house1', '', '', 'delete'))
    expect(index.effective('cat').byResource.size).toBe(0)
    logged.expectSameAsFresh()
  })

  it('forgets a deleted user, and knows one created again', () => {
    const logged = base()
    const { index } = logged
    index.effective('ann')
    logged.write(user('ann', 'delete'))
    expect(index.held('ann')).toBeUndefined()
    logged.write(user('ann'))
    expect(index.effective('ann').global.has('write')).toBe(true)
    logged.expectSameAsFresh()
  })
})

describe('EntitlementIndex loaded from a snapshot', () => {
  /** The rows of a log, table by table, in reverse order of writing (no key is written twice here). */
  const tables = (log: readonly PlannedChange[]) => {
    const rows: Record<string, object[]> = {}
    for (const change of [...log].reverse()) {
      const list = rows[change.tbl] ?? []
      list.push(change.row)
      rows[change.tbl] = list
    }
    return rows
  }

  it('agrees with the index built change by change, read table by table in any order of rows', () => {
    const logged = base().write(user('eve'), password('eve'), grant('eve', 'role', 'outer'))
    const loaded = fromSnapshot(EntitlementIndex.loader(), {
      revision: 3,
      rows: tables(logged.log),
    } as unknown as Snapshot)
    const { index } = logged
    expect(loaded.revision).toBe(3)
    for (const id of ['ann', 'bob', 'cat', 'dan', 'eve', 'gone'])
      expect(loaded.held(id), id).toEqual(index.held(id))
    expect([...loaded.administrators()]).toEqual([...index.administrators()])
  })

  it('agrees with it read as users joined with their credentials and grants, sharing identical grant sets', () => {
    const logged = base().write(
      user('eve'),
      password('eve'),
      grant('eve', 'role', 'outer'),
      grant('bob', 'role', 'outer'),
      grant('eve', 'permission', 'read'),
    )
    const rows = tables(logged.log)
    const loader = EntitlementIndex.loader()
    const sink = loader.joined?.('users')
    if (!sink) throw new Error('the Index reads users joined')
    expect(sink.children.map((c) => c.tbl)).toEqual(['credentials', 'user_grants'])
    for (const [tbl, list] of Object.entries(rows)) {
      if (tbl === 'users' || tbl === 'credentials' || tbl === 'user_grants') continue
      for (const row of list) loader.rows(tbl as 'roles')?.(row as never)
    }
    const of = (tbl: string, userId: string, columns: string[]) =>
      JSON.stringify(
        (rows[tbl] ?? [])
          .filter((row) => (row as { user_id: string }).user_id === userId)
          .map((row) => columns.map((c) => (row as Record<string, string>)[c])),
      )
    for (const row of rows.users ?? []) {
      const { id } = row as { id: string }
      sink.row(row, [
        of('credentials', id, ['kind', 'secret_hash']),
        of('user_grants', id, ['grant_kind', 'target_id']),
      ])
    }
    const loaded = loader.finish(5)
    const { index } = logged
    for (const id of ['ann', 'bob', 'cat', 'dan', 'eve', 'gone'])
      expect(loaded.held(id), id).toEqual(index.held(id))
    expect(loaded.passwordHashes).toEqual(index.passwordHashes)
    expect([...loaded.administrators()]).toEqual([...index.administrators()])
    expect(loaded.userRoles.get('ann')).toBe(loaded.userRoles.get('eve')) // both hold exactly outer
    expect([...(loaded.userRoles.get('bob') ?? [])].sort()).toEqual(['inner', 'outer'])
    // A later write replaces eve's set: ann's, which was the same object, is left as it was.
    loaded.apply([{ ...grant('eve', 'role', 'inner'), revision: 6, at: '' } as Change])
    expect([...(loaded.userRoles.get('ann') ?? [])]).toEqual(['outer'])
    expect(loaded.effective('eve').global.has('read')).toBe(true)
  })
})

describe('EntitlementIndex administrators', () => {
  it('keeps who can log in and holds admin, through nested roles, as a fresh count finds them', () => {
    const logged = base().write(holds('boss', 'role', 'outer'))
    const { index } = logged
    expect(index.isBootstrap()).toBe(true)
    logged.write(holds('inner', 'permission', 'admin'))
    expect(index.isBootstrap()).toBe(true) // ann, bob hold admin but cannot log in; cat only on a resource
    logged.write(password('ann'), password('cat'))
    expect([...index.administrators()]).toEqual(['ann'])
    logged.write(grant('dan', 'role', 'boss'), password('dan'))
    expect([...index.administrators()].sort()).toEqual(['ann', 'dan'])
    logged.write(holds('outer', 'role', 'inner', 'delete'))
    expect(index.isBootstrap()).toBe(true)
    logged.expectSameAsFresh()
    logged.write(holds('boss', 'permission', 'admin'))
    expect([...index.administrators()]).toEqual(['dan'])
    logged.write(password('dan', 'delete'))
    expect(index.isBootstrap()).toBe(true)
    logged.expectSameAsFresh()
  })

  it('agrees with a fresh index after every one of many random writes', () => {
    let seed = 0x5eed
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return (seed >>> 16) % n
    }
    const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5']
    const roles = ['r0', 'r1', 'r2', 'r3']
    const permissions = ['admin', 'p1', 'p2']
    const logged = new Logged().write(
      ...users.map((u) => user(u)),
      ...roles.map(
        (id) => ({ tbl: 'roles', op: 'put', row: { id, name: id, description: '' } }) as PlannedChange,
      ),
    )
    for (let step = 0; step < 400; step++) {
      const op = random(2) === 0 ? 'put' : 'delete'
      const u = users[random(users.length)] as string
      const r = roles[random(roles.length)] as string
      const p = permissions[random(permissions.length)] as string
      const changes: PlannedChange[][] = [
        [user(u, op)],
        [password(u, op)],
        [grant(u, 'role', r, op)],
        [grant(u, 'permission', p, op)],
        [grant(u, 'resource_role', `rr-${r}`, op)],
        [holds(r, 'permission', p, op)],
        [holds(r, 'role', roles[random(roles.length)] as string, op)],
        [resourceRole(`rr-${r}`, roles[random(roles.length)] as string, `res${random(2)}`, op)],
      ]
      logged.write(...(changes[random(changes.length)] as PlannedChange[]))
      // Every step compares (and so warms) every user's entry: a too narrow invalidation answers a stale one.
      logged.expectSameAsFresh()
      if (step % 10 === 0) expectAdministratorKept(logged, users, roles)
    }
  })
})

/**
 * Each planner that keeps an administrator refuses exactly the plans after which a fresh index, with the plan
 * applied, would have none (while it had one before).
 */
function expectAdministratorKept(logged: Logged, users: string[], roles: string[]): void {
  const { index } = logged
  const plans: [string, () => { changes: PlannedChange[] }][] = []
  for (const u of users) {
    plans.push([`delete ${u}`, () => deleteUser(index, u, '2026-01-01T00:00:00.000Z')])
    plans.push([`password of ${u}`, () => removeCredential(index, u, 'password')])
    for (const [kind, map] of [
      ['role', index.userRoles],
      ['permission', index.userPermissions],
    ] as const) {
      for (const target of map.get(u) ?? [])
        plans.push([`${u} ${target}`, () => revokeGrant(index, u, kind, target)])
    }
  }
  for (const r of roles) {
    if (index.roles.has(r)) plans.push([`delete ${r}`, () => deleteRole(index, r)])
    for (const id of [...(index.roleRoles.get(r) ?? []), ...(index.rolePermissions.get(r) ?? [])])
      plans.push([`${r} ${id}`, () => removeEntitlementFromRole(index, r, id)])
  }
  for (const [name, plan] of plans) {
    let refused = false
    try {
      plan()
    } catch (e) {
      if (!(e instanceof Error) || !/administrator/.test(e.message)) continue
      refused = true
    }
    // The plan's changes, made on a copy with one more administrator (so never refused), applied to a fresh copy.
    const spare = new Logged().write(
      ...logged.log,
      user('spare'),
      password('spare'),
      grant('spare', 'permission', 'admin'),
    )
    const changes = plansOn(spare.index, name, users, roles)
    const after = logged.fresh()
    after.apply(changes.map((c, i) => ({ ...c, revision: after.revision + i + 1, at: '' }) as Change))
    expect(refused, name).toBe(!index.isBootstrap() && after.isBootstrap())
  }
}

function plansOn(index: EntitlementIndex, name: string, users: string[], roles: string[]): PlannedChange[] {
  const [a, b] = name.split(' ') as [string, string]
  if (a === 'delete' && users.includes(b)) return deleteUser(index, b, '2026-01-01T00:00:00.000Z').changes
  if (a === 'password') return removeCredential(index, name.split(' ')[2] as string, 'password').changes
  if (a === 'delete') return deleteRole(index, b).changes
  if (users.includes(a))
    return revokeGrant(index, a, index.userRoles.get(a)?.has(b) ? 'role' : 'permission', b).changes
  if (roles.includes(a)) return removeEntitlementFromRole(index, a, b).changes
  throw new Error(name)
}
