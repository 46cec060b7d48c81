import { describe, expect, it } from 'vitest'
import { GrantSets, Holders } from './grant-sets.js'

describe('GrantSets', () => {
  const collect = (rows: [string, string, string][]) => {
    const out: [string, string, ReadonlySet<string>][] = []
    const sets = new GrantSets((user, kind, targets) => out.push([user, kind, targets]))
    for (const [user, kind, target] of rows) sets.add(user, kind, target)
    sets.flush()
    return out
  }

  it("makes one set per user and kind, and one object of each users' identical sets", () => {
    const out = collect([
      ['ann', 'role', 'b'],
      ['ann', 'role', 'a'],
      ['ann', 'permission', 'p'],
      ['bob', 'role', 'a'],
      ['bob', 'role', 'b'],
    ])
    expect(out.map(([u, k, s]) => [u, k, [...s]])).toEqual([
      ['ann', 'role', ['a', 'b']],
      ['ann', 'permission', ['p']],
      ['bob', 'role', ['a', 'b']],
    ])
    expect(out[0]?.[2]).toBe(out[2]?.[2])
  })

  it('hands on a user met again as another set, for the caller to merge', () => {
    const out = collect([
      ['ann', 'role', 'a'],
      ['bob', 'role', 'a'],
      ['ann', 'role', 'c'],
    ])
    expect(out.map(([u, , s]) => [u, [...s]])).toEqual([
      ['ann', ['a']],
      ['bob', ['a']],
      ['ann', ['c']],
    ])
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
