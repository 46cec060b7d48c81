// Maps of sets, as the Index keeps its reverse indexes, and sets shared between the entries of such maps.

/** Adds `value` to the set of `key`, making the set on first use. */
export function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  let set = map.get(key)
  if (!set) {
    set = new Set()
    map.set(key, set)
  }
  set.add(value)
}

export function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key)
  if (!set) return
  set.delete(value)
  if (set.size === 0) map.delete(key)
}

/**
 * Both sets as one; either itself where it holds the other, so that users holding one role share its set. No
 * set given or returned is ever changed: grant sets and role closures are replaced, not changed, on a write.
 */
export function union(a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> {
  if (b.size === 0 || a === b) return a
  if (a.size === 0) return b
  for (const id of b) if (!a.has(id)) return new Set([...a, ...b])
  return a
}
