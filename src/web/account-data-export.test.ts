import { describe, expect, it } from 'vitest'
import { failure } from '../../test/support/unit.js'
import { downloadRequest } from './account-data-export.js'
import { periodLabel, sizeLabel } from './account-data-view.js'

describe('Download My Data', () => {
  it('takes a period of whole UTC days, both included', () => {
    expect(downloadRequest({ from: '2026-11-01', to: '2026-11-30', format: 'csv' })).toEqual({
      format: 'csv',
      fromDay: '2026-11-01',
      toDay: '2026-11-30',
      from: Date.parse('2026-11-01T00:00:00Z') / 1000,
      to: Date.parse('2026-12-01T00:00:00Z') / 1000,
    })
    expect(downloadRequest({ from: '2026-11-01', to: '2026-11-01' }).format).toBe('xml')
  })

  it('refuses a bad date, format or period by name', () => {
    expect(failure(() => downloadRequest({ from: '2026-02-30', to: '2026-03-01' })).message).toBe(
      'from: "2026-02-30" is not a date (YYYY-MM-DD)',
    )
    expect(failure(() => downloadRequest({ from: '2026-02-01' })).message).toBe(
      'to: "" is not a date (YYYY-MM-DD)',
    )
    expect(failure(() => downloadRequest({ from: '2026-03-02', to: '2026-03-01' })).message).toBe(
      'to: 2026-03-01 is before from: 2026-03-02',
    )
    expect(failure(() => downloadRequest({ from: '2025-01-01', to: '2026-03-01' })).message).toBe(
      'the period is longer than 366 days: download it in parts',
    )
    expect(
      failure(() => downloadRequest({ from: '2026-03-01', to: '2026-03-01', format: 'pdf' })).status,
    ).toBe(400)
  })
})

describe('the customer’s data, in words', () => {
  it('says which days and how much', () => {
    const day = Date.parse('2026-11-17T00:00:00Z') / 1000
    expect(periodLabel(day, day + 14 * 86_400)).toBe('2026-11-17 to 2026-11-30')
    expect(periodLabel(day, day + 3600)).toBe('2026-11-17')
    expect(periodLabel(null, null)).toBe('no readings')
    expect(sizeLabel(512)).toBe('512 bytes')
    expect(sizeLabel(12_345)).toBe('12.3 kB')
    expect(sizeLabel(null)).toBe('shared transfer')
  })
})
