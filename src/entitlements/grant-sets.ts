/** What one user holds, with roles expanded: permissions everywhere, and per resource. */
export interface EffectiveEntitlements {
  global: ReadonlySet<string>
  byResource: ReadonlyMap<string, ReadonlySet<string>>
  /** Memo of each set as sorted, comma-joined text (key '' for global), for explanations; made when first asked. */
  texts: Map<string, string> | undefined
}

/** Grant texts kept at most while a snapshot loads. */
const TEXTS_KEPT = 65_536
/** The empty set of ids: one object, so that a user with none of a kind holds nothing of its own. */
export const EMPTY: ReadonlySet<string> = new Set()

/** The kinds of grant, and the field of `Grants` each is kept in. */
export const GRANT_FIELDS = {
  role: 'roles',
  permission: 'permissions',
  resource_role: 'resourceRoles',
} as const
export type GrantField = (typeof GRANT_FIELDS)[keyof typeof GRANT_FIELDS]

/**
 * One user's grants, a frozen set of each kind, and what they hold, roles expanded (`held`), worked out when
 * first asked and valid while `generation` is the Index's. Users loaded with the same grants share one object,
 * so what they hold is worked out once; a write gives a user a new one.
 */
export interface Grants {
  readonly roles: ReadonlySet<string>
  readonly permissions: ReadonlySet<string>
  readonly resourceRoles: ReadonlySet<string>
  held: EffectiveEntitlements | undefined
  generation: number
}

export const grantsOf = (
  roles: ReadonlySet<string>,
  permissions: ReadonlySet<string>,
  resourceRoles: ReadonlySet<string>,
): Grants => ({ roles, permissions, resourceRoles, held: undefined, generation: -1 })

/** `grants` with the set of one kind replaced. */
export function replaced(grants: Grants, field: GrantField, set: ReadonlySet<string>): Grants {
  const sets: Record<GrantField, ReadonlySet<string>> = { ...grants }
  sets[field] = set.size > 0 ? set : EMPTY
  return grantsOf(sets.roles, sets.permissions, sets.resourceRoles)
}

/**
 * The grants of a snapshot's users, one object per distinct combination, its sets shared too: a million
 * users granted the same few roles share a handful of objects instead of holding a million. The pools live
 * only while the snapshot loads.
 */
export class GrantSets {
  readonly #pool = new Map<string, ReadonlySet<string>>()
  /** The combinations, by their sets' identities: roles -> permissions -> resource roles. */
  readonly #combinations = new Map<
    ReadonlySet<string>,
    Map<ReadonlySet<string>, Map<ReadonlySet<string>, Grants>>
  >()
  /** A user's grants by the JSON text of the user's grants (a key of its own form, apart from #pool's). */
  readonly #byText = new Map<string, Grants>()

  /**
   * A user's grants, as the store joins them to the user (snapshot-stream.ts): a JSON array of [kind, target]
   * pairs, whose text is the key of the user's grants, parsed only for a text not seen before (the same
   * grants in another order are another text, for the same object).
   */
  of(pairs: string): Grants {
    let found = this.#byText.get(pairs)
    if (!found) {
      const targets: Partial<Record<string, string[]>> = {}
      for (const [kind, target] of JSON.parse(pairs) as [string, string][]) {
        const list = targets[kind]
        if (list) list.push(target)
        else targets[kind] = [target]
      }
      found = this.#combination(
        this.#shared(targets.role),
        this.#shared(targets.permission),
        this.#shared(targets.resource_role),
      )
      // Users granted sets of their own would each leave a text here: the pool is a cache, not a record.
      if (this.#byText.size >= TEXTS_KEPT) this.#byText.clear()
      this.#byText.set(pairs, found)
    }
    return found
  }

  #shared(targets: string[] | undefined): ReadonlySet<string> {
    if (!targets) return EMPTY
    // JSON, not a join on a separator: no id can make two different sets one key.
    const key = JSON.stringify(targets.sort())
    let set = this.#pool.get(key)
    if (!set) {
      set = new Set(targets)
      this.#pool.set(key, set)
    }
    return set
  }

  #combination(
    roles: ReadonlySet<string>,
    permissions: ReadonlySet<string>,
    resourceRoles: ReadonlySet<string>,
  ): Grants {
    let byPermissions = this.#combinations.get(roles)
    if (!byPermissions) {
      byPermissions = new Map()
      this.#combinations.set(roles, byPermissions)
    }
    let byResourceRoles = byPermissions.get(permissions)
    if (!byResourceRoles) {
      byResourceRoles = new Map()
      byPermissions.set(permissions, byResourceRoles)
    }
    let grants = byResourceRoles.get(resourceRoles)
    if (!grants) {
      grants = grantsOf(roles, permissions, resourceRoles)
      byResourceRoles.set(resourceRoles, grants)
    }
    return grants
  }
}

/** Every user's set of one kind of grant, where it is not empty: a view of the users' `Grants`. */
export class GrantsOfKind implements Iterable<readonly [string, ReadonlySet<string>]> {
  readonly #grants: ReadonlyMap<string, Grants>
  readonly #field: GrantField
  constructor(grants: ReadonlyMap<string, Grants>, field: GrantField) {
    this.#grants = grants
    this.#field = field
  }

  get(userId: string): ReadonlySet<string> | undefined {
    const set = this.#grants.get(userId)?.[this.#field]
    return set && set.size > 0 ? set : undefined
  }

  has(userId: string): boolean {
    return this.get(userId) !== undefined
  }

  *[Symbol.iterator](): Iterator<readonly [string, ReadonlySet<string>]> {
    for (const [userId, grants] of this.#grants) {
      const set = grants[this.#field]
      if (set.size > 0) yield [userId, set]
    }
  }
}

/**
 * The users holding a grant, found when asked by one pass over the users' grant sets (each distinct set
 * looked at once): only writes that remove a role or a resource role ask, so none is kept per grant.
 */
export class Holders {
  readonly #grants: Iterable<readonly [string, ReadonlySet<string>]>
  constructor(grants: Iterable<readonly [string, ReadonlySet<string>]>) {
    this.#grants = grants
  }

  get(targetId: string): ReadonlySet<string> | undefined {
    const holds = touching(new Set([targetId]))
    const found = new Set<string>()
    for (const [userId, set] of this.#grants) if (holds(set)) found.add(userId)
    return found.size > 0 ? found : undefined
  }
}

/** Does a set hold any of `ids`? Asked of many users' sets, each distinct one looked at once. */
export function touching(ids: ReadonlySet<string>): (set: ReadonlySet<string> | undefined) => boolean {
  const seen = new Map<ReadonlySet<string>, boolean>()
  return (set) => {
    if (!set || ids.size === 0) return false
    let found = seen.get(set)
    if (found === undefined) {
      found = [...ids].some((id) => set.has(id))
      seen.set(set, found)
    }
    return found
  }
}
