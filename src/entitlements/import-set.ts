import type { BulkRows } from '../store/bulk-write.js'
import type { GrantKind, PermissionRow, ResourceRoleRow, ResourceRow, RoleRow } from '../store/schema.js'
import { checkRecord, type ImportProblem, type ImportRecord, type RecordType } from './import-records.js'

/**
 * The records of one entitlements import, gathered line by line, then checked whole against what the store
 * holds (references, clashes, resource cycles) and turned into the rows to write. Pure: no I/O. Grants, by
 * far the most numerous, are kept in columns rather than as objects, their ids shared with their users'.
 */

/** What the store already holds, as the checks need it: the entitlement Index, narrowed. */
export interface KnownEntitlements {
  hasUser(id: string): boolean
  hasRole(id: string): boolean
  /** true: a built-in permission; false: a defined one; undefined: none. */
  permissionBuiltin(id: string): boolean | undefined
  /** The parent of a stored resource (null at the top); undefined: no such resource. */
  resourceParent(id: string): string | null | undefined
  hasResourceRole(id: string): boolean
}

/** How many records of each type the import holds. */
export type ImportCounts = Record<RecordType, number>

type Defined<R> = { row: R; line: number }

// Enough to fix a file by; the rest are counted.
const MAX_PROBLEMS = 100

/** Problems, the first MAX_PROBLEMS kept and the rest counted. */
export class ProblemList {
  readonly items: ImportProblem[] = []
  more = 0
  add(problem: ImportProblem): void {
    if (this.items.length < MAX_PROBLEMS) this.items.push(problem)
    else this.more++
  }
  get empty(): boolean {
    return this.items.length === 0
  }
}

export class ImportSet {
  /** Problems of the lines on their own, found while they were added. */
  readonly problems = new ProblemList()
  readonly #permissions = new Map<string, Defined<PermissionRow>>()
  readonly #roles = new Map<string, Defined<RoleRow> & { permissions: string[] }>()
  readonly #resources = new Map<string, Defined<ResourceRow>>()
  readonly #resourceRoles = new Map<string, Defined<ResourceRoleRow>>()
  readonly #users = new Map<string, Defined<{ id: string; name: string }>>()
  readonly #credentials = new Map<string, { line: number; hash?: string; password?: string }>()
  readonly #grantUser: string[] = []
  readonly #grantKind: GrantKind[] = []
  readonly #grantTarget: string[] = []
  readonly #grantLine: number[] = []
  #grantOrder: Uint32Array | undefined

  /** Takes one parsed line (a JSON value, or a CSV row's fields). */
  add(value: unknown, line: number): void {
    const record = checkRecord(value, line)
    if ('message' in record) this.problems.add(record)
    else this.#take(record, line)
  }

  #take(record: ImportRecord, line: number): void {
    switch (record.type) {
      case 'permission':
        this.#define(this.#permissions, 'permission', line, {
          row: { id: record.id, name: record.name, description: record.description, builtin: 0 },
          line,
        })
        break
      case 'role':
        this.#define(this.#roles, 'role', line, {
          row: { id: record.id, name: record.name, description: record.description },
          line,
          permissions: record.permissions,
        })
        break
      case 'resource':
        this.#define(this.#resources, 'resource', line, {
          row: { id: record.id, description: record.description, parent_id: record.parent },
          line,
        })
        break
      case 'resource_role':
        this.#define(this.#resourceRoles, 'resource role', line, {
          row: { id: record.id, role_id: record.role, resource_id: record.resource },
          line,
        })
        break
      case 'user':
        this.#define(this.#users, 'user', line, { row: { id: record.id, name: record.name }, line })
        break
      case 'credential': {
        const earlier = this.#credentials.get(record.user)
        if (earlier) {
          this.problems.add({
            line,
            field: 'user',
            message: `user ${record.user} already has a credential on line ${earlier.line}`,
          })
          return
        }
        this.#credentials.set(record.user, {
          line,
          ...(record.password_hash !== undefined
            ? { hash: record.password_hash }
            : { password: record.password as string }),
        })
        return
      }
      case 'grant':
        // The user's id as the file defined it: one string for the user and all its grants.
        this.#grantUser.push(this.#users.get(record.user)?.row.id ?? record.user)
        this.#grantKind.push(record.kind)
        this.#grantTarget.push(this.#interned(record.kind, record.target))
        this.#grantLine.push(line)
    }
  }

  #interned(kind: GrantKind, target: string): string {
    const defined =
      kind === 'role' ? this.#roles : kind === 'permission' ? this.#permissions : this.#resourceRoles
    return defined.get(target)?.row.id ?? target
  }

  #define<D extends Defined<{ id: string }>>(
    map: Map<string, D>,
    kind: string,
    line: number,
    entry: D,
  ): void {
    const earlier = map.get(entry.row.id)
    if (earlier)
      this.problems.add({
        line,
        field: 'id',
        message: `${kind} ${entry.row.id} is already in the file, on line ${earlier.line}`,
      })
    else map.set(entry.row.id, entry)
  }

  /** Checks every reference against the file and the store (as it is now: run again under the write lock). */
  check(known: KnownEntitlements): ProblemList {
    const problems = new ProblemList()
    const hasPermission = (id: string) =>
      this.#permissions.has(id) || known.permissionBuiltin(id) !== undefined
    const hasRole = (id: string) => this.#roles.has(id) || known.hasRole(id)
    const hasResource = (id: string) => this.#resources.has(id) || known.resourceParent(id) !== undefined
    const hasUser = (id: string) => this.#users.has(id) || known.hasUser(id)
    const missing = (line: number, field: string, what: string) =>
      problems.add({ line, field, message: `${what} is neither in the file nor in the store` })
    for (const { row, line } of this.#permissions.values()) {
      if (known.permissionBuiltin(row.id))
        problems.add({
          line,
          field: 'id',
          message: `permission ${row.id} is built in and cannot be replaced`,
        })
      if (hasRole(row.id)) problems.add({ line, field: 'id', message: `a role with id ${row.id} exists` })
    }
    for (const { row, line, permissions } of this.#roles.values()) {
      if (hasPermission(row.id))
        problems.add({ line, field: 'id', message: `a permission with id ${row.id} exists` })
      for (const p of permissions) if (!hasPermission(p)) missing(line, 'permissions', `permission ${p}`)
    }
    for (const { row, line } of this.#resources.values()) {
      if (row.parent_id !== null && !hasResource(row.parent_id))
        missing(line, 'parent', `resource ${row.parent_id}`)
    }
    this.#checkResourceCycles(known, problems)
    for (const { row, line } of this.#resourceRoles.values()) {
      if (!hasRole(row.role_id)) missing(line, 'role', `role ${row.role_id}`)
      if (!hasResource(row.resource_id)) missing(line, 'resource', `resource ${row.resource_id}`)
    }
    for (const [user, { line }] of this.#credentials)
      if (!hasUser(user)) missing(line, 'user', `user ${user}`)
    const target = {
      role: hasRole,
      permission: hasPermission,
      resource_role: (id: string) => this.#resourceRoles.has(id) || known.hasResourceRole(id),
    }
    for (let i = 0; i < this.#grantUser.length; i++) {
      const user = this.#grantUser[i] as string
      const kind = this.#grantKind[i] as GrantKind
      const id = this.#grantTarget[i] as string
      const line = this.#grantLine[i] as number
      if (!hasUser(user)) missing(line, 'user', `user ${user}`)
      if (!target[kind](id)) missing(line, kind, `${kind.replace('_', ' ')} ${id}`)
    }
    return problems
  }

  /** A resource of the file may not end up inside itself, through the file's parents or the store's. */
  #checkResourceCycles(known: KnownEntitlements, problems: ProblemList): void {
    const parentOf = (id: string) =>
      this.#resources.has(id)
        ? (this.#resources.get(id)?.row.parent_id ?? null)
        : (known.resourceParent(id) ?? null)
    const reachesTop = new Set<string>()
    for (const { row, line } of this.#resources.values()) {
      const path = new Set<string>()
      let at: string | null = row.id
      while (at !== null && !reachesTop.has(at) && !path.has(at)) {
        path.add(at)
        at = parentOf(at)
      }
      if (at !== null && path.has(at)) {
        problems.add({
          line,
          field: 'parent',
          message: `resource ${row.id} would be inside itself (${[...path].join(' -> ')})`,
        })
        return
      }
      for (const id of path) reachesTop.add(id)
    }
  }

  /** Passwords given in clear, to hash before the write (user id -> password). */
  passwords(): Map<string, string> {
    const clear = new Map<string, string>()
    for (const [user, c] of this.#credentials) if (c.password !== undefined) clear.set(user, c.password)
    return clear
  }

  counts(): ImportCounts {
    return {
      permission: this.#permissions.size,
      role: this.#roles.size,
      resource: this.#resources.size,
      resource_role: this.#resourceRoles.size,
      user: this.#users.size,
      credential: this.#credentials.size,
      grant: this.#grantUser.length,
    }
  }

  /** The rows to write, table by table, things before what refers to them; `hashes` of the clear passwords. */
  tables(hashes: ReadonlyMap<string, string>): BulkRows[] {
    const roleEntitlements = [...this.#roles.values()].flatMap(({ row, permissions }) =>
      permissions.map((p) => ({
        role_id: row.id,
        entitlement_kind: 'permission' as const,
        entitlement_id: p,
      })),
    )
    const credentials = this.#credentials
    return [
      rowsOf(
        'permissions',
        [...this.#permissions.values()].map((d) => d.row),
      ),
      rowsOf(
        'roles',
        [...this.#roles.values()].map((d) => d.row),
      ),
      rowsOf('role_entitlements', roleEntitlements),
      rowsOf('resources', this.#resourcesParentsFirst()),
      rowsOf(
        'resource_roles',
        [...this.#resourceRoles.values()].map((d) => d.row),
      ),
      { tbl: 'users', count: this.#users.size, rows: inKeyOrder(this.#users, (d) => d.row) },
      {
        tbl: 'credentials',
        count: credentials.size,
        rows: inKeyOrder(credentials, (c, user_id) => ({
          user_id,
          kind: 'password' as const,
          secret_hash: c.hash ?? (hashes.get(user_id) as string),
        })),
      },
      { tbl: 'user_grants', count: this.#grantUser.length, rows: this.#grantRows() },
    ]
  }

  /** The grants in the order of their key (user, kind, target), sorted once, when first written. */
  *#grantRows() {
    this.#grantOrder ??= this.#sortedGrants()
    for (const i of this.#grantOrder) {
      yield {
        user_id: this.#grantUser[i] as string,
        grant_kind: this.#grantKind[i] as GrantKind,
        target_id: this.#grantTarget[i] as string,
      }
    }
  }

  #sortedGrants(): Uint32Array {
    const users = this.#grantUser
    const kinds = this.#grantKind
    const targets = this.#grantTarget
    const order = new Uint32Array(users.length).map((_, i) => i)
    return order.sort(
      (a, b) =>
        compare(users[a] as string, users[b] as string) ||
        compare(kinds[a] as string, kinds[b] as string) ||
        compare(targets[a] as string, targets[b] as string),
    )
  }

  #resourcesParentsFirst(): ResourceRow[] {
    const ordered: ResourceRow[] = []
    const placed = new Set<string>()
    const place = (row: ResourceRow) => {
      if (placed.has(row.id)) return
      placed.add(row.id)
      const parent = row.parent_id === null ? undefined : this.#resources.get(row.parent_id)
      if (parent) place(parent.row)
      ordered.push(row)
    }
    for (const { row } of this.#resources.values()) place(row)
    return ordered
  }
}

const rowsOf = <T extends BulkRows['tbl']>(tbl: T, rows: Extract<BulkRows, { tbl: T }>['rows'] & unknown[]) =>
  ({ tbl, count: rows.length, rows }) as BulkRows

// Ids are ASCII (validation.ts), so JavaScript's order of strings is SQLite's.
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The entries of a map as rows, in the order of their keys, sorted when first read. Rows written in key order
 * append to the table's B-trees instead of splitting pages all over them: a quarter faster at millions of rows.
 */
function* inKeyOrder<V, R>(map: ReadonlyMap<string, V>, row: (value: V, key: string) => R): Generator<R> {
  for (const key of [...map.keys()].sort(compare)) yield row(map.get(key) as V, key)
}
