import { describe, expect, it } from 'vitest'
import type { BulkRows } from '../store/bulk-write.js'
import { checkCsvHeader, csvFields } from './import-records.js'
import { ImportSet, type KnownEntitlements } from './import-set.js'

const PHC =
  '$argon2id$v=19$m=19456,t=2,p=1$9SzxtObutZ6YPUHy9MQCAQ$huKYyn//cnmJITUyYd4h4tIZW5o55rzggMaOOedzzmg'

/** A store holding the built-in `admin`, role `staff`, resource `site` and user `old`. */
const store: KnownEntitlements = {
  hasUser: (id) => id === 'old',
  hasRole: (id) => id === 'staff',
  permissionBuiltin: (id) => (id === 'admin' ? true : undefined),
  resourceParent: (id) => (id === 'site' ? null : undefined),
  hasResourceRole: () => false,
}

/** The set of these lines (line numbers from 1), and the problems of each line and of the references. */
function importOf(...lines: unknown[]) {
  const set = new ImportSet()
  lines.forEach((value, i) => {
    set.add(value, i + 1)
  })
  return { set, parsed: set.problems.items, checked: set.check(store).items }
}

const rowsOf = (tables: BulkRows[]) =>
  Object.fromEntries(tables.filter((t) => t.count > 0).map((t) => [t.tbl, [...t.rows]]))

describe('an entitlements import', () => {
  it('turns records into rows, table by table, things before what refers to them', () => {
    const { set, parsed, checked } = importOf(
      { type: 'grant', user: 'ann', resource_role: 'kitchen_reader' },
      { type: 'user', id: 'ann', name: 'Ann' },
      { type: 'credential', user: 'ann', password_hash: PHC },
      { type: 'credential', user: 'old', password: 'secret' },
      { type: 'grant', user: 'ann', role: 'reader' },
      { type: 'grant', user: 'old', permission: 'admin' },
      { type: 'resource_role', id: 'kitchen_reader', role: 'reader', resource: 'site:kitchen' },
      { type: 'resource', id: 'site:kitchen', parent: 'site:ground' },
      { type: 'resource', id: 'site:ground', parent: 'site', description: 'Ground floor' },
      { type: 'role', id: 'reader', permissions: ['read'] },
      { type: 'permission', id: 'read', name: 'Read' },
    )
    expect(parsed).toEqual([])
    expect(checked).toEqual([])
    expect(set.counts()).toEqual({
      permission: 1,
      role: 1,
      resource: 2,
      resource_role: 1,
      user: 1,
      credential: 2,
      grant: 3,
    })
    expect(set.passwords()).toEqual(new Map([['old', 'secret']]))
    const tables = set.tables(new Map([['old', 'HASHED']]))
    expect(tables.map((t) => t.tbl)).toEqual([
      'permissions',
      'roles',
      'role_entitlements',
      'resources',
      'resource_roles',
      'users',
      'credentials',
      'user_grants',
    ])
    expect(rowsOf(tables)).toEqual({
      permissions: [{ id: 'read', name: 'Read', description: '', builtin: 0 }],
      roles: [{ id: 'reader', name: 'reader', description: '' }],
      role_entitlements: [{ role_id: 'reader', entitlement_kind: 'permission', entitlement_id: 'read' }],
      // The parent first, though the file gave it second.
      resources: [
        { id: 'site:ground', description: 'Ground floor', parent_id: 'site' },
        { id: 'site:kitchen', description: '', parent_id: 'site:ground' },
      ],
      resource_roles: [{ id: 'kitchen_reader', role_id: 'reader', resource_id: 'site:kitchen' }],
      users: [{ id: 'ann', name: 'Ann' }],
      credentials: [
        { user_id: 'ann', kind: 'password', secret_hash: PHC },
        { user_id: 'old', kind: 'password', secret_hash: 'HASHED' },
      ],
      user_grants: [
        { user_id: 'ann', grant_kind: 'resource_role', target_id: 'kitchen_reader' },
        { user_id: 'ann', grant_kind: 'role', target_id: 'reader' },
        { user_id: 'old', grant_kind: 'permission', target_id: 'admin' },
      ],
    })
    expect(tables.map((t) => t.count)).toEqual([1, 1, 1, 2, 1, 1, 2, 3])
  })

  it('names the line and the field of each record that is wrong on its own', () => {
    const { parsed } = importOf(
      [1, 2],
      { type: 'robot', id: 'r2' },
      { type: 'user', id: 'bad id!' },
      { type: 'user', id: 'carol', age: 3 },
      { type: 'resource_role', id: 'x', role: 'staff' },
      { type: 'grant', user: 'old', role: 'staff', permission: 'admin' },
      { type: 'grant', user: 'old' },
      { type: 'credential', user: 'old', password_hash: 'plain' },
      { type: 'credential', user: 'old' },
      { type: 'credential', user: 'old', password: '' },
      { type: 'role', id: 'r', permissions: 'read' },
      { type: 'role', id: 'r2', permissions: [7] },
      { type: 'user', id: 'dan', name: 'x'.repeat(2001) },
      { type: 'user', id: 7 },
    )
    expect(parsed.map((p) => [p.line, p.field])).toEqual([
      [1, ''],
      [2, 'type'],
      [3, 'id'],
      [4, 'age'],
      [5, 'resource'],
      [6, 'permission'],
      [7, 'role'],
      [8, 'password_hash'],
      [9, 'password'],
      [10, 'password'],
      [12, 'permissions'],
      [13, 'name'],
      [14, 'id'],
    ])
    expect(parsed[1]?.message).toContain('expected one of permission, role, resource')
    expect(parsed[2]?.message).toContain('user id "bad id!" is not valid')
    expect(parsed[3]?.message).toBe('a user has no field "age" (its fields: id, name)')
    expect(parsed[4]?.message).toBe('a resource_role needs "resource"')
    expect(parsed[7]?.message).toContain('argon2 PHC string')
    expect(parsed[11]?.message).toBe('too long (2001 characters; at most 2000)')
  })

  it('refuses a second definition of an id, or a second credential of a user, naming the first line', () => {
    const { parsed } = importOf(
      { type: 'user', id: 'ann' },
      { type: 'user', id: 'ann' },
      { type: 'credential', user: 'ann', password: 'a' },
      { type: 'credential', user: 'ann', password: 'b' },
    )
    expect(parsed).toEqual([
      { line: 2, field: 'id', message: 'user ann is already in the file, on line 1' },
      { line: 4, field: 'user', message: 'user ann already has a credential on line 3' },
    ])
  })

  it('checks every reference against the file and the store', () => {
    const { parsed, checked } = importOf(
      { type: 'grant', user: 'nobody', role: 'staff' },
      { type: 'grant', user: 'old', role: 'ghost' },
      { type: 'grant', user: 'old', permission: 'ghost' },
      { type: 'grant', user: 'old', resource_role: 'ghost' },
      { type: 'credential', user: 'nobody', password: 'x' },
      { type: 'role', id: 'r', permissions: ['ghost'] },
      { type: 'resource', id: 'room', parent: 'ghost' },
      { type: 'resource_role', id: 'rr', role: 'ghost', resource: 'nowhere' },
      { type: 'permission', id: 'admin' },
      { type: 'permission', id: 'staff' },
    )
    expect(parsed).toEqual([])
    expect(checked.map((p) => [p.line, p.field, p.message])).toEqual([
      [9, 'id', 'permission admin is built in and cannot be replaced'],
      [10, 'id', 'a role with id staff exists'],
      [6, 'permissions', 'permission ghost is neither in the file nor in the store'],
      [7, 'parent', 'resource ghost is neither in the file nor in the store'],
      [8, 'role', 'role ghost is neither in the file nor in the store'],
      [8, 'resource', 'resource nowhere is neither in the file nor in the store'],
      [5, 'user', 'user nobody is neither in the file nor in the store'],
      [1, 'user', 'user nobody is neither in the file nor in the store'],
      [2, 'role', 'role ghost is neither in the file nor in the store'],
      [3, 'permission', 'permission ghost is neither in the file nor in the store'],
      [4, 'resource_role', 'resource role ghost is neither in the file nor in the store'],
    ])
  })

  it('refuses resources that would contain themselves', () => {
    const { checked } = importOf(
      { type: 'resource', id: 'a', parent: 'b' },
      { type: 'resource', id: 'b', parent: 'a' },
    )
    expect(checked).toEqual([
      { line: 1, field: 'parent', message: 'resource a would be inside itself (a -> b)' },
    ])
  })

  it('keeps the first hundred problems and counts the rest', () => {
    const set = new ImportSet()
    for (let line = 1; line <= 150; line++) set.add({ type: 'user' }, line)
    expect(set.problems.items).toHaveLength(100)
    expect(set.problems.more).toBe(50)
  })
})

describe('a CSV import file', () => {
  it('needs a type column and only the columns of some record type', () => {
    expect(checkCsvHeader(['type', 'id', 'name', 'user', 'role'])).toEqual([])
    expect(checkCsvHeader(['id', 'colour']).map((p) => [p.line, p.field])).toEqual([
      [1, 'type'],
      [1, 'colour'],
    ])
  })

  it('reads a row as fields by the header, empty cells left out, and lists of ids separated by spaces', () => {
    const fields = csvFields(['type', 'id', 'name', 'permissions'], ['role', 'reader', '', 'read  write'])
    expect(fields).toEqual({ type: 'role', id: 'reader', permissions: 'read  write' })
    const set = new ImportSet()
    set.add(fields, 2)
    set.add({ type: 'permission', id: 'read' }, 3)
    set.add({ type: 'permission', id: 'write' }, 4)
    expect(set.problems.items).toEqual([])
    const entitlements = rowsOf(set.tables(new Map())).role_entitlements
    expect(entitlements?.map((r) => (r as { entitlement_id: string }).entitlement_id)).toEqual([
      'read',
      'write',
    ])
  })
})
