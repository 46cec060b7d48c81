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
import {
  type EffectiveEntitlements,
  EMPTY,
  GRANT_FIELDS,
  type GrantField,
  GrantSets,
  type Grants,
  GrantsOfKind,
  grantsOf,
  Holders,
  replaced,
  touching,
} from './grant-sets.js'
import { ADMIN_PERMISSION } from './permissions.js'
import { addTo, removeFrom, union } from './set-maps.js'

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
const NOTHING: EffectiveEntitlements = { global: EMPTY, byResource: new Map(), texts: undefined }

/**
 * The in-memory projection of the entitlement tables. It changes only by `apply`, which runs synchronously
 * between decisions, so every decision sees one revision whole. Decisions read it through the read-only
 * members. Compact for a million users: a user's grants are one object (grant-sets.ts Grants) of a frozen set
 * of each kind, shared by the users loaded with the same ones and replaced (never changed in place) on a
 * write; a user id is one string, whichever maps hold it. The object keeps what its grants hold, roles
 * expanded, once worked out: a decision looks its user up once, a new user or not, and nothing is kept per
 * user asked about. A change to a role's entitlements or a resource role's binding has them worked out again
 * when next asked, so that it costs the same whatever the number of users. The administrators who can log
 * in are kept as a set, updated by the same changes.
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
  /** user id -> its grants, for every user; grants whose user row is absent (a load's order) wait apart. */
  readonly #grants = new Map<string, Grants>()
  readonly #grantsWithoutUser = new Map<string, Grants>()
  /** user id -> the targets of its grants of one kind, where it has any. */
  readonly userRoles = new GrantsOfKind(this.#grants, 'roles')
  readonly userPermissions = new GrantsOfKind(this.#grants, 'permissions')
  readonly userResourceRoles = new GrantsOfKind(this.#grants, 'resourceRoles')
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
  /** Moved on by a change to a role's entitlements or a resource role's binding: what users hold is stale. */
  #generation = 0
  readonly #noGrants = grantsOf(EMPTY, EMPTY, EMPTY)
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
                index.#grants.set(user.id, held === '[]' ? index.#noGrants : grants.of(held))
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
        if (previous?.role_id !== current?.role_id || previous?.resource_id !== current?.resource_id)
          this.#generation++
        return
      }
      case 'role_entitlements': {
        // The closure of the role and of every role containing it may change; the edge changed leaves the set
        // of containing roles as it was, so it is found once.
        const affected = this.#rolesContaining(row.role_id as string)
        const adminBefore = [...affected].map((id) => this.permissionsOfRole(id).has(ADMIN_PERMISSION))
        this.#write(change)
        for (const roleId of affected) this.#roleClosure.delete(roleId)
        this.#generation++
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

  #recheckAdmin(userId: string): void {
    if (!this.#admins) return
    if (this.#isLoggableAdmin(userId)) this.#admins.add(userId)
    else this.#admins.delete(userId)
  }

  /**
   * The bootstrap rule's administrator: a user who can log in and holds admin (`holdsAdmin`).
   */
  #isLoggableAdmin(userId: string): boolean {
    const canLogIn = this.passwordHashes.has(userId) || this.voicePrintOf.has(userId)
    const held = canLogIn ? this.held(userId) : undefined
    return held !== undefined && holdsAdmin(held)
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
        const table = this.#grantsTable(user_id)
        const grants = table.get(user_id) ?? this.#noGrants
        const field = GRANT_FIELDS[grant_kind]
        // A new set, never the old one changed: other users may share it.
        table.set(user_id, replaced(grants, field, new Set(grants[field]).add(target_id)))
        break
      }
      case 'users': {
        const row = change.row as UserRow
        this.users.set(row.id, row)
        const waiting = this.#grantsWithoutUser.get(row.id)
        if (waiting) this.#grantsWithoutUser.delete(row.id)
        if (!this.#grants.has(row.id)) this.#grants.set(row.id, waiting ?? this.#noGrants)
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
        const table = this.#grantsTable(row.user_id as string)
        const grants = table.get(row.user_id as string)
        const field: GrantField = GRANT_FIELDS[row.grant_kind as keyof typeof GRANT_FIELDS]
        if (!grants?.[field].has(row.target_id as string)) break
        const rest = new Set(grants[field]) // other users may share the old set
        rest.delete(row.target_id as string)
        table.set(row.user_id as string, replaced(grants, field, rest))
        break
      }
      case 'users': {
        const grants = this.#grants.get(row.id as string)
        this.users.delete(row.id as string)
        this.#grants.delete(row.id as string)
        if (grants && grants !== this.#noGrants) this.#grantsWithoutUser.set(row.id as string, grants)
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

  #grantsTable(userId: string): Map<string, Grants> {
    return this.users.has(userId) ? this.#grants : this.#grantsWithoutUser
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

  /** What `userId` holds, or undefined for an unknown user: one map lookup, a new user or not. */
  held(userId: string): EffectiveEntitlements | undefined {
    const grants = this.#grants.get(userId)
    if (!grants) return undefined
    if (grants.held === undefined || grants.generation !== this.#generation) {
      grants.held = this.#entitlementsOf(grants)
      grants.generation = this.#generation
    }
    return grants.held
  }

  #entitlementsOf({ roles, permissions, resourceRoles }: Grants): EffectiveEntitlements {
    let global = permissions
    for (const roleId of roles) global = union(global, this.permissionsOfRole(roleId))
    const byResource = new Map<string, ReadonlySet<string>>()
    for (const rrId of resourceRoles) {
      const rr = this.resourceRoles.get(rrId)
      if (rr) {
        const here = byResource.get(rr.resource_id) ?? EMPTY
        byResource.set(rr.resource_id, union(here, this.permissionsOfRole(rr.role_id)))
      }
    }
    return { global, byResource, texts: undefined }
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
