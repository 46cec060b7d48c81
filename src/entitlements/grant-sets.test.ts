import { describe, expect, it } from 'vitest'
import { GrantSets, Holders } from './grant-sets.js'

describe('GrantSets', () => {
  const sorted = (byKind: readonly (readonly [string, ReadonlySet<string>])[]) =>
    byKind.map(([kind, set]) => [kind, [...set]])

  it("makes one set per kind of a user's grants, and one object of users' identical sets", () => {
    const sets = new GrantSets()
    const ann = sets.byKind('[["role","b"],["permission","p"],["role","a"]]')
    // Bob's grants in another order: another text, the same sets.
    const bob = sets.byKind('[["role","a"],["role","b"]]')
    expect(sorted(ann)).toEqual([
      ['role', ['a', 'b']],
      ['permission', ['p']],
    ])
    expect(sorted(bob)).toEqual([['role', ['a', 'b']]])
    expect(bob[0]?.[1]).toBe(ann[0]?.[1])
    expect(sets.byKind('[["role","a"],["role","b"]]')).toBe(bob)
  })

  it('keeps targets that a joined text would confuse apart', () => {
    const sets = new GrantSets()
    const [[, one] = []] = sets.byKind('[["role","a\\u0000b"]]')
    const [[, two] = []] = sets.byKind('[["role","a"],["role","b"]]')
    expect(one).not.toBe(two)
    expect(one && [...one]).toEqual(['a\u0000b'])
  })
})

describe('Holders', () => {
  it('finds the users whose sets hold a target, and undefined when none does', () => {
    const shared = new Set(['r1', 'r2'])
    const holders = new Holders(
      new Map<string, ReadonlySet<string>>([
        ['ann', shared],
        ['bob', shared],
        ['cat', new Set(['r3'])],
      ]),
    )
    expect([...(holders.get('r2') ?? [])]).toEqual(['ann', 'bob'])
    expect([...(holders.get('r3') ?? [])]).toEqual(['cat'])
    expect(holders.get('r4')).toBeUndefined()
  })
})
