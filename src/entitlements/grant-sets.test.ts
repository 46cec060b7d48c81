import { describe, expect, it } from 'vitest'
import { GrantSets, type Grants, GrantsOfKind, grantsOf, Holders, replaced } from './grant-sets.js'

describe('GrantSets', () => {
  const sorted = (grants: Grants) =>
    [grants.roles, grants.permissions, grants.resourceRoles].map((set) => [...set])

  it("makes one set per kind of a user's grants, and one object of users' identical grants", () => {
    const sets = new GrantSets()
    const ann = sets.of('[["role","b"],["permission","p"],["role","a"]]')
    // Bob's grants in another order: another text, the same object; cat's roles are ann's set.
    const bob = sets.of('[["permission","p"],["role","a"],["role","b"]]')
    const cat = sets.of('[["role","a"],["role","b"],["resource_role","h"]]')
    expect(sorted(ann)).toEqual([['a', 'b'], ['p'], []])
    expect(bob).toBe(ann)
    expect(sorted(cat)).toEqual([['a', 'b'], [], ['h']])
    expect(cat.roles).toBe(ann.roles)
    expect(sets.of('[["role","a"],["role","b"]]')).not.toBe(ann)
  })

  it('keeps targets that a joined text would confuse apart', () => {
    const sets = new GrantSets()
    const one = sets.of('[["role","a\\u0000b"]]')
    const two = sets.of('[["role","a"],["role","b"]]')
    const three = sets.of('[["role","a"],["permission","b"]]')
    expect(one).not.toBe(two)
    expect([...one.roles]).toEqual(['a\u0000b'])
    expect(sorted(three)).toEqual([['a'], ['b'], []])
  })
})

describe('GrantsOfKind', () => {
  it("is each user's set of one kind where it is not empty", () => {
    const roles = new Set(['r1'])
    const grants = new Map([
      ['ann', grantsOf(roles, new Set(), new Set())],
      ['bob', grantsOf(new Set(), new Set(['p']), new Set())],
    ])
    const userRoles = new GrantsOfKind(grants, 'roles')
    expect(userRoles.get('ann')).toBe(roles)
    expect(userRoles.get('bob')).toBeUndefined()
    expect(userRoles.has('bob')).toBe(false)
    expect([...userRoles]).toEqual([['ann', roles]])
    const replacedAnn = replaced(grantsOf(roles, new Set(), new Set()), 'roles', new Set())
    expect(replacedAnn.roles.size).toBe(0)
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
