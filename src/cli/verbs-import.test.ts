import { describe, expect, it } from 'vitest'
import { IMPORT_NICE, niceOf } from './verbs-import.js'

describe('niceOf', () => {
  it('is IMPORT_NICE unless --nice says otherwise, 0 keeping the priority', () => {
    expect(niceOf({})).toBe(IMPORT_NICE)
    expect(niceOf({ nice: '0' })).toBe(0)
    expect(niceOf({ nice: '19' })).toBe(19)
  })

  it('names a value out of 0 to 19', () => {
    expect(() => niceOf({ nice: '20' })).toThrow('--nice must be from 0 to 19, got "20"')
    expect(() => niceOf({ nice: '-1' })).toThrow('--nice must be a whole number, got "-1"')
    expect(() => niceOf({ nice: 'low' })).toThrow('--nice must be a whole number, got "low"')
  })
})
