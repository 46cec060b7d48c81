import { describe, expect, it } from 'vitest'
import { filterAuthorizations } from './consent-pages.js'

const a = (id: string, customerId: string, clientId: string, status: string, ends: string) => ({
  id,
  customerId,
  clientId,
  status,
  ends,
})
const items = [
  a('a1', 'alice', 'tp1', 'active', '2027-01-31T23:30:00.000Z'),
  a('a2', 'bob', 'tp1', 'terminated', '2027-02-01T00:00:00.000Z'),
  a('a3', 'alice', 'tp2', 'active', '2028-06-30T12:00:00.000Z'),
]
const none = { customer: '', third_party: '', status: '', ends_by: '' }
const ids = (r: ReturnType<typeof filterAuthorizations<(typeof items)[number]>>) =>
  'shown' in r ? r.shown.map((x) => x.id) : r.error

describe('filterAuthorizations', () => {
  it('keeps all without a filter, and what every filter given keeps', () => {
    expect(ids(filterAuthorizations(items, none))).toEqual(['a1', 'a2', 'a3'])
    expect(ids(filterAuthorizations(items, { ...none, customer: 'alice', status: 'active' }))).toEqual([
      'a1',
      'a3',
    ])
    expect(ids(filterAuthorizations(items, { ...none, customer: 'alice', third_party: 'tp2' }))).toEqual([
      'a3',
    ])
  })

  it('keeps those ending on the day given (UTC) or before it', () => {
    expect(ids(filterAuthorizations(items, { ...none, ends_by: '2027-01-31' }))).toEqual(['a1'])
    expect(ids(filterAuthorizations(items, { ...none, ends_by: '2027-02-01' }))).toEqual(['a1', 'a2'])
    expect(ids(filterAuthorizations(items, { ...none, ends_by: '2026-12-31' }))).toEqual([])
  })

  it('names an end date that is not one', () => {
    expect(ids(filterAuthorizations(items, { ...none, ends_by: '31/01/2027' }))).toBe(
      'ends_by: 31/01/2027 is not a date (YYYY-MM-DD)',
    )
    expect(ids(filterAuthorizations(items, { ...none, ends_by: '2027-13-45' }))).toMatch(/is not a date/)
  })
})
