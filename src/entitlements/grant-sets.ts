import type { GroupSink } from '../store/snapshot-stream.js'

/**
 * Groups the grants of a snapshot, read in key order (user, kind, target), into one frozen set per user and
 * kind, and hands each on. Identical sets are one object: a million users granted the same few roles share
 * a handful of sets instead of holding a million. The pool of sets lives only while the snapshot loads.
 */
export class GrantSets {
  readonly #emit: (userId: string, kind: string, targets: ReadonlySet<string>) => void
  #userId: string | undefined
  readonly #pending = new Map<string, string[]>()
  readonly #pool = new Map<string, ReadonlySet<string>>()
  /** Sets by their JSON text, as groups bring them (a key of its own form, kept apart from #pool's). */
  readonly #byJson = new Map<string, ReadonlySet<string>>()

  constructor(emit: (userId: string, kind: string, targets: ReadonlySet<string>) => void) {
    this.#emit = emit
  }

  add(userId: string, kind: string, targetId: string): void {
    if (userId !== this.#userId) {
      this.flush()
      this.#userId = userId
    }
    const targets = this.#pending.get(kind)
    if (targets) targets.push(targetId)
    else this.#pending.set(kind, [targetId])
  }

  /**
   * Takes a user's grants of one kind at once, as the store groups them (snapshot-stream.ts): their targets a
   * JSON array of strings, whose text is the key of the shared set, parsed only for a set not seen before.
   * Each (user, kind) comes once, so nothing is merged; a user's id is resolved once for a run of its groups.
   */
  groupSink(
    resolve: (userId: string) => string,
    put: (userId: string, kind: string, targets: ReadonlySet<string>) => void,
  ): GroupSink {
    let last: string | undefined
    let resolved = ''
    return {
      groups: (userId, kind, targets) => {
        if (userId !== last) {
          last = userId
          resolved = resolve(userId)
        }
        let set = this.#byJson.get(targets)
        if (!set) {
          set = new Set(JSON.parse(targets) as string[])
          this.#byJson.set(targets, set)
        }
        put(resolved, kind, set)
      },
    }
  }

  /** Hands on the sets of the user whose grants came last. The lists are kept, emptied, for the next user. */
  flush(): void {
    const userId = this.#userId
    if (userId === undefined) return
    for (const [kind, targets] of this.#pending) {
      if (targets.length === 0) continue
      this.#emit(userId, kind, this.#shared(targets))
      targets.length = 0
    }
  }

  #shared(targets: string[]): ReadonlySet<string> {
    const key = targets.sort().join('\u0000')
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
