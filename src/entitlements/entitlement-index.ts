import { fromSnapshot, type SnapshotLoader } from '../kernel/projections.js'
import type {
  AccessTokenRow,
  CredentialRow,
  PermissionRow,
  ReplicatedTable,
  ResourceRoleRow,
  ResourceRow,
  RoleRow,
  UserRow,
} from '../store/schema.js'
import type { Change, PlannedChange, Snapshot } from '../store/store.js'
import { holdsAdmin } from './administrator.js'
import { GrantSets, Holders, touching } from './grant-sets.js'
import { ADMIN_PERMISSION } from './permissions.js'
import { addTo, removeFrom } from './set-maps.js'

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

/** Entitlements shared by every user holding the same grant sets: roles -> permissions -> resource roles. */
type SharedEntitlements = WeakMap<
  ReadonlySet<string>,
  WeakMap<ReadonlySet<string>, WeakMap<ReadonlySet<string>, EffectiveEntitlements>>
>

/**
 * The in-memory projection of the entitlement tables. It changes only by `apply`, which runs synchronously
 * between decisions, so every decision sees one revision whole. Decisions read it through the read-only
 * members. Compact for a million users: a user's grants of one kind are a frozen set, shared by the users
 * granted the same ones when loaded, and replaced (never changed in place) on a write; a user id is one
 * string, whichever maps hold it. What users hold, roles expanded, is worked out once per distinct
 * combination of grant sets and cached per user; a change drops only the entries it can alter (a user's
 * grants that user's; a role's entitlements or a resource role's binding its holders'). The administrators
 * who can log in are kept as a set, updated by the same changes.
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
  /** user id -> the targets of its grants of one kind: frozen sets, which users with the same grants share. */
  readonly userRoles = new Map<string, ReadonlySet<string>>()
  readonly userPermissions = new Map<string, ReadonlySet<string>>()
  readonly userResourceRoles = new Map<string, ReadonlySet<string>>()
  readonly resources = new Map<string, ResourceRow>()
  readonly resourceRoles = new Map<string, ResourceRoleRow>()
  readonly tokens = new Map<string, AccessTokenRow>()
  /** Reverse indexes, so that a write finds what it affects: role -> users granted it directly; role -> the
   * roles that hold it directly; role -> resource roles bound to it; resource role -> users granted it;
   * user -> ids of their tokens. */
  readonly roleHolders = new Holders(this.userRoles)
  readonly roleParents = new Map<string, Set<string>>()
  readonly resourceRolesOfRole = new Map<string, Set<string>>()
  readonly resourceRoleHolders = new Holders(this.userResourceRoles)
  readonly tokensOfUser = new Map<string, Set<string>>()

  #roleClosure = new Map<string, ReadonlySet<string>>()
  #effective = new Map<string, EffectiveEntitlements>()
  #shared: SharedEntitlements = new WeakMap()
  /** Users who can log in and hold admin; undefined until isBootstrap() first asks, then kept up to date. */
  #admins: Set<string> | undefined

  /**
   * An empty index filling from a streamed snapshot (kernel/projections.ts SnapshotLoader): users joined with
   * their credentials and grants where the store can join them, the tables one by one where it cannot. Grants
   * become shared sets (grant-sets.ts).
   */
  static loader(): SnapshotLoader<EntitlementIndex> {
    const index = new EntitlementIndex()
    const grants = new GrantSets()
    return {
      // Table by table (a snapshot read whole; users' tables another projection reads too): unshared sets.
      rows: (tbl) =>
        OWN_TABLES.has(tbl) ? (row) => index.#put({ tbl, op: 'put', row } as PlannedChange) : undefined,
      joined: (tbl) =>
        tbl === 'users'
          ? {
              children: [
                { tbl: 'credentials', columns: ['kind', 'secret_hash'] },
                { tbl: 'user_grants', columns: ['grant_kind', 'target_id'] },
              ],
              row(row, [credentials = '[]', held = '[]']) {
                const user = row as UserRow
                index.users.set(user.id, user)
                if (credentials !== '[]')
                  for (const [kind, hash] of JSON.parse(credentials) as [CredentialRow['kind'], string][])
                    index.#putCredential(user.id, kind, hash)
                if (held !== '[]')
                  for (const [kind, set] of grants.byKind(held)) index.#grantMap(kind).set(user.id, set)
              },
            }
          : undefined,
      finish(revision) {
        index.revision = revision
        return index
      },
    }
  }

  /** An index built from a snapshot read whole. */
  static fromSnapshot(snapshot: Snapshot): EntitlementIndex {
    return fromSnapshot(EntitlementIndex.loader(), snapshot)
  }

  /** Applies committed changes in revision order; ones already applied are skipped. */
  apply(changes: readonly Change[]): void {
    for (const change of changes) {
      if (change.revision <= this.revision) continue
      this.revision = change.revision
      if (!OWN_TABLES.has(change.tbl)) continue
      this.#applyOne(change)
    }
  }

  /** One change, with the cache entries and the administrator set it can alter brought up to date. */
  #applyOne(change: PlannedChange): void {
    const row = change.row as Record<string, string>
    switch (change.tbl) {
      case 'users':
      case 'user_grants':
        this.#write(change)
        this.#effective.delete(row.user_id ?? row.id ?? '')
        this.#recheckAdmin(row.user_id ?? row.id ?? '')
        return
      case 'credentials':
        this.#write(change)
        this.#recheckAdmin(row.user_id as string)
        return
      case 'resource_roles': {
        const previous = this.resourceRoles.get(row.id as string)
        this.#write(change)
        const current = this.resourceRoles.get(row.id as string)
        if (previous?.role_id !== current?.role_id || previous?.resource_id !== current?.resource_id) {
          this.#dropHolders(EMPTY, new Set([row.id as string]))
        }
        return
      }
      case 'role_entitlements': {
        // The closure of the role and of every role containing it may change; the edge changed leaves the set
        // of containing roles as it was, so it is found once.
        const affected = this.#rolesContaining(row.role_id as string)
        const adminBefore = [...affected].map((id) => this.permissionsOfRole(id).has(ADMIN_PERMISSION))
        this.#write(change)
        for (const roleId of affected) this.#roleClosure.delete(roleId)
        const bound = new Set<string>()
        for (const roleId of affected)
          for (const rr of this.resourceRolesOfRole.get(roleId) ?? EMPTY) bound.add(rr)
        this.#dropHolders(affected, bound)
        let i = 0
        for (const roleId of affected) {
          const changed = this.permissionsOfRole(roleId).has(ADMIN_PERMISSION) !== adminBefore[i++]
          if (changed && this.#admins) {
            for (const userId of this.roleHolders.get(roleId) ?? EMPTY) this.#recheckAdmin(userId)
          }
        }
        return
      }
      default:
        // permissions, roles, resources and tokens: effective entitlements read none of them.
        this.#write(change)
    }
  }

  #write(change: PlannedChange): void {
    if (change.op === 'put') this.#put(change)
    else this.#delete(change)
  }

  /** `roleId` and every role that holds it, directly or through nested roles. */
  #rolesContaining(roleId: string): Set<string> {
    const found = new Set<string>([roleId])
    const stack = [roleId]
    while (stack.length > 0) {
      for (const parent of this.roleParents.get(stack.pop() as string) ?? EMPTY) {
        if (!found.has(parent)) {
          found.add(parent)
          stack.push(parent)
        }
      }
    }
    return found
  }

  /**
   * Drops the cached entitlements of every user granted one of `roles` or `resourceRoles` (one pass over the
   * cached users, each distinct grant set looked at once), and starts the shared ones afresh: they are keyed
   * by grant sets, whichever users hold them, so they cannot be dropped one by one.
   */
  #dropHolders(roles: ReadonlySet<string>, resourceRoles: ReadonlySet<string>): void {
    const holdsRole = touching(roles)
    const holdsResourceRole = touching(resourceRoles)
    for (const userId of this.#effective.keys()) {
      if (holdsRole(this.userRoles.get(userId)) || holdsResourceRole(this.userResourceRoles.get(userId)))
        this.#effective.delete(userId)
    }
    this.#shared = new WeakMap()
  }

  #recheckAdmin(userId: string): void {
    if (!this.#admins) return
    if (this.#isLoggableAdmin(userId)) this.#admins.add(userId)
    else this.#admins.delete(userId)
  }

  /**
   * The bootstrap rule's administrator: a user who can log in and holds admin (`holdsAdmin`). Reads the shared
   * entitlements, but does not fill the per-user cache: counting every user must not keep an entry for each.
   */
  #isLoggableAdmin(userId: string): boolean {
    const canLogIn = this.passwordHashes.has(userId) || this.voicePrintOf.has(userId)
    if (!canLogIn || !this.users.has(userId)) return false
    return holdsAdmin(this.#effective.get(userId) ?? this.#sharedOf(userId))
  }

  #putCredential(userId: string, kind: CredentialRow['kind'], secretHash: string): void {
    if (kind === 'password') this.passwordHashes.set(userId, secretHash)
    else {
      const previous = this.voicePrintOf.get(userId)
      if (previous) this.voicePrints.delete(previous)
      this.voicePrints.set(secretHash, userId)
      this.voicePrintOf.set(userId, secretHash)
    }
  }

  #put(change: PlannedChange): void {
    switch (change.tbl) {
      case 'role_entitlements': {
        const { role_id, entitlement_kind, entitlement_id } = change.row as Required<typeof change.row>
        addTo(entitlement_kind === 'role' ? this.roleRoles : this.rolePermissions, role_id, entitlement_id)
        if (entitlement_kind === 'role') addTo(this.roleParents, entitlement_id, role_id)
        break
      }
      case 'credentials': {
        const { user_id, kind, secret_hash } = change.row as Required<typeof change.row>
        this.#putCredential(user_id, kind, secret_hash)
        break
      }
      case 'user_grants': {
        const { user_id, grant_kind, target_id } = change.row as Required<typeof change.row>
        const map = this.#grantMap(grant_kind)
        // A new set, never the old one changed: other users may share it.
        map.set(user_id, new Set(map.get(user_id) ?? EMPTY).add(target_id))
        break
      }
      case 'resource_roles': {
        const row = change.row as ResourceRoleRow
        const previous = this.resourceRoles.get(row.id)
        if (previous) removeFrom(this.resourceRolesOfRole, previous.role_id, row.id)
        addTo(this.resourceRolesOfRole, row.role_id, row.id)
        this.resourceRoles.set(row.id, row)
        break
      }
      case 'access_tokens': {
        const row = change.row as AccessTokenRow
        const previous = this.tokens.get(row.id)
        if (previous) removeFrom(this.tokensOfUser, previous.user_id, row.id)
        addTo(this.tokensOfUser, row.user_id, row.id)
        this.tokens.set(row.id, row)
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
        if (row.entitlement_kind === 'role')
          removeFrom(this.roleParents, row.entitlement_id as string, row.role_id as string)
        break
      case 'credentials':
        if (row.kind === 'password') this.passwordHashes.delete(row.user_id as string)
        else {
          const digest = this.voicePrintOf.get(row.user_id as string)
          if (digest) this.voicePrints.delete(digest)
          this.voicePrintOf.delete(row.user_id as string)
        }
        break
      case 'user_grants': {
        const map = this.#grantMap(row.grant_kind as string)
        const held = map.get(row.user_id as string)
        if (!held?.has(row.target_id as string)) break
        const rest = new Set(held) // other users may share the old set
        rest.delete(row.target_id as string)
        if (rest.size > 0) map.set(row.user_id as string, rest)
        else map.delete(row.user_id as string)
        break
      }
      case 'resource_roles': {
        const previous = this.resourceRoles.get(row.id as string)
        if (previous) removeFrom(this.resourceRolesOfRole, previous.role_id, previous.id)
        this.resourceRoles.delete(row.id as string)
        break
      }
      case 'access_tokens': {
        const previous = this.tokens.get(row.id as string)
        if (previous) removeFrom(this.tokensOfUser, previous.user_id, previous.id)
        this.tokens.delete(row.id as string)
        break
      }
      default:
        this.#byId(change.tbl).delete(row.id as string)
    }
  }

  #grantMap(kind: string): Map<string, ReadonlySet<string>> {
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
    const result = this.#sharedOf(userId)
    this.#effective.set(userId, result)
    return result
  }

  /** What users holding `userId`'s grant sets hold: worked out once per combination of sets. */
  #sharedOf(userId: string): EffectiveEntitlements {
    const roles = this.userRoles.get(userId) ?? EMPTY
    const permissions = this.userPermissions.get(userId) ?? EMPTY
    const resourceRoles = this.userResourceRoles.get(userId) ?? EMPTY
    let byPermissions = this.#shared.get(roles)
    if (!byPermissions) {
      byPermissions = new WeakMap()
      this.#shared.set(roles, byPermissions)
    }
    let byResourceRoles = byPermissions.get(permissions)
    if (!byResourceRoles) {
      byResourceRoles = new WeakMap()
      byPermissions.set(permissions, byResourceRoles)
    }
    let result = byResourceRoles.get(resourceRoles)
    if (!result) {
      result = this.#entitlementsOf(roles, permissions, resourceRoles)
      byResourceRoles.set(resourceRoles, result)
    }
    return result
  }

  #entitlementsOf(
    roles: ReadonlySet<string>,
    permissions: ReadonlySet<string>,
    resourceRoles: ReadonlySet<string>,
  ): EffectiveEntitlements {
    const global = new Set<string>(permissions)
    for (const roleId of roles) for (const p of this.permissionsOfRole(roleId)) global.add(p)
    const byResource = new Map<string, Set<string>>()
    for (const rrId of resourceRoles) {
      const rr = this.resourceRoles.get(rrId)
      if (!rr) continue
      let set = byResource.get(rr.resource_id)
      if (!set) {
        set = new Set()
        byResource.set(rr.resource_id, set)
      }
      for (const p of this.permissionsOfRole(rr.role_id)) set.add(p)
    }
    return { global, byResource, texts: new Map<string, string>() }
  }

  /**
   * True while no user who can log in (holds a password or a voice print) holds the `admin` permission: the
   * store can then be set up without a token. Service accounts, which have no credential, do not count.
   */
  isBootstrap(): boolean {
    return this.administrators().size === 0
  }

  /**
   * The users who can log in and hold `admin`. Found the first time it is asked among the users granted
   * `admin` or a role holding it (each distinct grant set looked at once), then kept by `apply`, each change
   * rechecking only the users it can affect.
   */
  administrators(): ReadonlySet<string> {
    if (!this.#admins) {
      const roleIds = new Set([
        ...this.roles.keys(),
        ...this.rolePermissions.keys(),
        ...this.roleRoles.keys(),
      ])
      const adminRoles = new Set(
        [...roleIds].filter((id) => this.permissionsOfRole(id).has(ADMIN_PERMISSION)),
      )
      const admins = new Set<string>()
      for (const [grants, holds] of [
        [this.userPermissions, touching(new Set([ADMIN_PERMISSION]))],
        [this.userRoles, touching(adminRoles)],
      ] as const)
        for (const [userId, set] of grants)
          if (holds(set) && this.#isLoggableAdmin(userId)) admins.add(userId)
      this.#admins = admins
    }
    return this.#admins
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

// This projection in the kernel's Index, as `index` (custodian.ts registers the class).
declare module '../kernel/projections.js' {
  interface Index {
    index: EntitlementIndex
  }
}
