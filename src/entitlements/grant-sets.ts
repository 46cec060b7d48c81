/** Grant texts kept at most while a snapshot loads. */
const TEXTS_KEPT = 65_536

/**
 * The grants of a snapshot's users as frozen sets, one per user and kind. Identical sets are one object: a
 * million users granted the same few roles share a handful of sets instead of holding a million. The pools
 * live only while the snapshot loads.
 */
export class GrantSets {
  readonly #pool = new Map<string, ReadonlySet<string>>()
  /** A user's sets by kind, by the JSON text of the user's grants (a key of its own form, apart from #pool's). */
  readonly #byText = new Map<string, readonly (readonly [string, ReadonlySet<string>])[]>()

  /**
   * A user's grants of every kind at once, as the store joins them to the user (snapshot-stream.ts): a JSON
   * array of [kind, target] pairs, whose text is the key of the user's shared sets, parsed only for a text not
   * seen before (the same grants in another order are another text, for the same sets).
   */
  byKind(pairs: string): readonly (readonly [string, ReadonlySet<string>])[] {
    let found = this.#byText.get(pairs)
    if (!found) {
      const byKind = new Map<string, string[]>()
      for (const [kind, target] of JSON.parse(pairs) as [string, string][]) {
        const targets = byKind.get(kind)
        if (targets) targets.push(target)
        else byKind.set(kind, [target])
      }
      found = [...byKind].map(([kind, targets]) => [kind, this.#shared(targets)] as const)
      // Users granted sets of their own would each leave a text here: the pool is a cache, not a record.
      if (this.#byText.size >= TEXTS_KEPT) this.#byText.clear()
      this.#byText.set(pairs, found)
    }
    return found
  }

  #shared(targets: string[]): ReadonlySet<string> {
    // JSON, not a join on a separator: no id can make two different sets one key.
    const key = JSON.stringify(targets.sort())
    let set = this.#pool.get(key)
    if (!set) {
      set = new Set(targets)
      this.#pool.set(key, set)
    }
    return set
  }
}

/**
 * The users holding a grant, found when asked by one pass over the users' grant sets (each distinct set
 * looked at once): only writes that remove a role or a resource role ask, so none is kept per grant.
 */
export class Holders {
  readonly #grants: ReadonlyMap<string, ReadonlySet<string>>
  constructor(grants: ReadonlyMap<string, ReadonlySet<string>>) {
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
