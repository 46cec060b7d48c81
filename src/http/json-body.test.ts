import { describe, expect, it } from 'vitest'
import { fieldWithNul, nestsDeeperThan } from './json-body.js'

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

describe('a NUL in a body', () => {
  it('is found in a value or a key, however deep, and named by its field', () => {
    expect(fieldWithNul(JSON.parse('{"permission":"open","resource":"door\\u0000"}'))).toBe('body.resource')
    expect(fieldWithNul(JSON.parse('{"questions":[{"resource":"a"},{"resource":"b\\u0000"}]}'))).toBe(
      'body.questions.1.resource',
    )
    expect(fieldWithNul(JSON.parse('{"a":{"x\\u0000y":1}}'))).toBe('body.a.x\\u0000y')
  })

  it('is not found where there is none: a backslash and "u0000" as text are not one', () => {
    expect(fieldWithNul(JSON.parse('{"a":"back\\\\u0000slash","b":[1,null,true,{"c":"ünï 🎉"}]}'))).toBe(
      undefined,
    )
    expect(fieldWithNul(42)).toBe(undefined)
  })
})
