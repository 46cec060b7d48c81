import type {
  AccessTokenRow,
  PermissionRow,
  ReplicatedTable,
  ResourceRoleRow,
  ResourceRow,
  RoleRow,
  UserRow,
} from '../store/schema.js'
import type { Change, PlannedChange, Snapshot } from '../store/store.js'
import { holdsAdmin } from './administrator.js'

/** What one user holds, with roles expanded: permissions everywhere, and per resource. */
export interface EffectiveEntitlements {
  global: ReadonlySet<string>
  byResource: ReadonlyMap<string, ReadonlySet<string>>
  /** Memo of each set as sorted, comma-joined text (key '' for global), for explanations. */
  texts: Map<string, string>
}

const EMPTY: ReadonlySet<string> = new Set()
/** The tables this projection reads; other tables' changes only advance its revision. */
const OWN_TABLES: ReadonlySet<string> = new Set([
  'permissions',
  'roles',
  'role_entitlements',
  'users',
  'credentials',
  'user_grants',
  'resources',
  'resource_roles',
  'access_tokens',
])
const NOTHING: EffectiveEntitlements = { global: EMPTY, byResource: new Map(), texts: new Map() }

/**
 * The in-memory projection of the entitlement tables. It changes only by `apply`, which runs synchronously
 * between decisions, so every decision sees one revision whole. Decisions read it through the read-only
 * members; expanded role closures and per-user entitlements are cached and dropped on any change that could
 * alter them.
 */
export class EntitlementIndex {
  revision = 0
  readonly permissions = new Map<string, PermissionRow>()
  readonly roles = new Map<string, RoleRow>()
  /** role id -> its direct entitlements (`role:<id>` / `permission:<id>` kept apart by kind). */
  readonly roleRoles = new Map<string, Set<string>>()
  readonly rolePermissions = new Map<string, Set<string>>()
  readonly users = new Map<string, UserRow>()
  readonly passwordHashes = new Map<string, string>()
  /** voice print digest -> user id, and back. */
  readonly voicePrints = new Map<string, string>()
  readonly voicePrintOf = new Map<string, string>()
  readonly userRoles = new Map<string, Set<string>>()
  readonly userPermissions = new Map<string, Set<string>>()
  readonly userResourceRoles = new Map<string, Set<string>>()
  readonly resources = new Map<string, ResourceRow>()
  readonly resourceRoles = new Map<string, ResourceRoleRow>()
  readonly tokens = new Map<string, AccessTokenRow>()

  #roleClosure = new Map<string, ReadonlySet<string>>()
  #effective = new Map<string, EffectiveEntitlements>()
  #adminCount: number | undefined

  static fromSnapshot(snapshot: Snapshot): EntitlementIndex {
    const index = new EntitlementIndex()
    for (const [tbl, rows] of Object.entries(snapshot.rows)) {
      if (!OWN_TABLES.has(tbl)) continue
      for (const row of rows) index.#put({ tbl, op: 'put', row } as PlannedChange)
    }
    index.revision = snapshot.revision
    return index
  }

  /** Applies committed changes in revision order; ones already applied are skipped. */
  apply(changes: readonly Change[]): void {
    let touched = false
    for (const change of changes) {
      if (change.revision <= this.revision) continue
      this.revision = change.revision
      if (!OWN_TABLES.has(change.tbl)) continue
      if (change.op === 'put') this.#put(change)
      else this.#delete(change)
      if (change.tbl !== 'access_tokens') touched = true
    }
    if (touched) {
      this.#roleClosure = new Map()
      this.#effective = new Map()
      this.#adminCount = undefined
    }
  }

  #put(change: PlannedChange): void {
    switch (change.tbl) {
      case 'role_entitlements': {
        const { role_id, entitlement_kind, entitlement_id } = change.row as Required<typeof change.row>
        addTo(entitlement_kind === 'role' ? this.roleRoles : this.rolePermissions, role_id, entitlement_id)
        break
      }
      case 'credentials': {
        const { user_id, kind, secret_hash } = change.row as Required<typeof change.row>
        if (kind === 'password') this.passwordHashes.set(user_id, secret_hash)
        else {
          const previous = this.voicePrintOf.get(user_id)
          if (previous) this.voicePrints.delete(previous)
          this.voicePrints.set(secret_hash, user_id)
          this.voicePrintOf.set(user_id, secret_hash)
        }
        break
      }
      case 'user_grants': {
        const { user_id, grant_kind, target_id } = change.row as Required<typeof change.row>
        addTo(this.#grantMap(grant_kind), user_id, target_id)
        break
      }
      default:
        this.#byId(change.tbl).set((change.row as { id: string }).id, change.row)
    }
  }

  #delete(change: PlannedChange): void {
    const row = change.row as Record<string, string>
    switch (change.tbl) {
      case 'role_entitlements':
        removeFrom(
          row.entitlement_kind === 'role' ? this.roleRoles : this.rolePermissions,
          row.role_id as string,
          row.entitlement_id as string,
        )
        break
      case 'credentials':
        if (row.kind === 'password') this.passwordHashes.delete(row.user_id as string)
        else {
          const digest = this.voicePrintOf.get(row.user_id as string)
          if (digest) this.voicePrints.delete(digest)
          this.voicePrintOf.delete(row.user_id as string)
        }
        break
      case 'user_grants':
        removeFrom(this.#grantMap(row.grant_kind as string), row.user_id as string, row.target_id as string)
        break
      default:
        this.#byId(change.tbl).delete(row.id as string)
    }
  }

  #grantMap(kind: string): Map<string, Set<string>> {
    if (kind === 'role') return this.userRoles
    if (kind === 'permission') return this.userPermissions
    return this.userResourceRoles
  }

  #byId(tbl: ReplicatedTable): Map<string, unknown> {
    const maps: Partial<Record<ReplicatedTable, Map<string, unknown>>> = {
      permissions: this.permissions,
      roles: this.roles,
      users: this.users,
      resources: this.resources,
      resource_roles: this.resourceRoles,
      access_tokens: this.tokens,
    }
    return maps[tbl] ?? new Map()
  }

  /** Every permission a role holds, through nested roles too. Cycles are refused on write, but tolerated here. */
  permissionsOfRole(roleId: string): ReadonlySet<string> {
    const cached = this.#roleClosure.get(roleId)
    if (cached) return cached
    const result = new Set<string>()
    const seen = new Set<string>()
    const stack = [roleId]
    while (stack.length > 0) {
      const id = stack.pop() as string
      if (seen.has(id)) continue
      seen.add(id)
      for (const p of this.rolePermissions.get(id) ?? EMPTY) result.add(p)
      for (const r of this.roleRoles.get(id) ?? EMPTY) stack.push(r)
    }
    this.#roleClosure.set(roleId, result)
    return result
  }

  /** What `userId` holds; nothing for an unknown user. */
  effective(userId: string): EffectiveEntitlements {
    return this.held(userId) ?? NOTHING
  }

  /** What `userId` holds, or undefined for an unknown user: one map lookup on the hot path. */
  held(userId: string): EffectiveEntitlements | undefined {
    const cached = this.#effective.get(userId)
    if (cached) return cached
    if (!this.users.has(userId)) return undefined
    const global = new Set<string>(this.userPermissions.get(userId) ?? EMPTY)
    for (const roleId of this.userRoles.get(userId) ?? EMPTY) {
      for (const p of this.permissionsOfRole(roleId)) global.add(p)
    }
    const byResource = new Map<string, Set<string>>()
    for (const rrId of this.userResourceRoles.get(userId) ?? EMPTY) {
      const rr = this.resourceRoles.get(rrId)
      if (!rr) continue
      let set = byResource.get(rr.resource_id)
      if (!set) {
        set = new Set()
        byResource.set(rr.resource_id, set)
      }
      for (const p of this.permissionsOfRole(rr.role_id)) set.add(p)
    }
    const result = { global, byResource, texts: new Map<string, string>() }
    this.#effective.set(userId, result)
    return result
  }

  /**
   * True while no user who can log in (holds a password or a voice print) holds the `admin` permission: the
   * store can then be set up without a token. Service accounts, which have no credential, do not count.
   */
  isBootstrap(): boolean {
    if (this.#adminCount === undefined) {
      let count = 0
      for (const userId of this.users.keys()) {
        const canLogIn = this.passwordHashes.has(userId) || this.voicePrintOf.has(userId)
        if (canLogIn && holdsAdmin(this.effective(userId))) count += 1
      }
      this.#adminCount = count
    }
    return this.#adminCount === 0
  }

  /** The resource and its ancestors, nearest first; stops at a parent loop so bad data cannot hang a check. */
  *lineage(resourceId: string): Generator<string> {
    const seen = new Set<string>()
    for (
      let id: string | null | undefined = resourceId;
      id != null && !seen.has(id);
      id = this.resources.get(id)?.parent_id
    ) {
      seen.add(id)
      yield id
    }
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key)
  if (!set) {
    set = new Set()
    map.set(key, set)
  }
  set.add(value)
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key)
  if (!set) return
  set.delete(value)
  if (set.size === 0) map.delete(key)
}

// This projection in the kernel's Index, as `index` (custodian.ts registers the class).
declare module '../kernel/projections.js' {
  interface Index {
    index: EntitlementIndex
  }
}
