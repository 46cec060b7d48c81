import { describe, expect, it } from 'vitest'
import { endOfAccess, endOfDay } from './changes.js'

const NOW = '2026-12-03T08:30:00.000Z'

describe('endOfAccess', () => {
  it('reads a day as the last day readable, as the pages and termination do', () => {
    expect(endOfAccess('2027-06-30', NOW)).toBe('2027-07-01T00:00:00.000Z')
    expect(endOfAccess(' 2027-06-30 ', NOW)).toBe(endOfDay('2027-06-30', NOW))
  })

  it('takes a time as given, and +<n>d as that many days from now', () => {
    expect(endOfAccess('2027-06-30T12:00:00.000Z', NOW)).toBe('2027-06-30T12:00:00.000Z')
    expect(endOfAccess('+2d', NOW)).toBe('2026-12-05T08:30:00.000Z')
  })

  it('leaves what is no date for the caller to refuse', () => {
    expect(Number.isNaN(Date.parse(endOfAccess('2027-13-45', NOW)))).toBe(true)
    expect(Number.isNaN(Date.parse(endOfAccess('soon', NOW)))).toBe(true)
  })
})
