import { describe, expect, it } from 'vitest'
import { nestsDeeperThan } from './json-body.js'

describe('how deeply a JSON text nests', () => {
  it('counts arrays and objects inside one another, not one after another', () => {
    expect(nestsDeeperThan('{"a":[1,{"b":[]}]}', 4)).toBe(false)
    expect(nestsDeeperThan('{"a":[1,{"b":[]}]}', 3)).toBe(true)
    expect(nestsDeeperThan(`[${'[],'.repeat(10_000)}[]]`, 2)).toBe(false)
  })

  it('does not count brackets in strings, escaped quotes included', () => {
    expect(nestsDeeperThan(JSON.stringify({ a: '[[[[{{{{', b: 'say \\"[[[[" twice' }), 1)).toBe(false)
    expect(nestsDeeperThan(JSON.stringify(['\\', [[]]]), 2)).toBe(true)
  })

  it('reads 30,000 levels without recursing', () => {
    expect(nestsDeeperThan('['.repeat(30_000) + ']'.repeat(30_000), 64)).toBe(true)
  })
})
