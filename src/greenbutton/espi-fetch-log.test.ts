import { describe, expect, it } from 'vitest'
import type { AuthorizationRow } from '../store/schema.js'
import { fetchRows, resourceKindOf, type Served, servedReadings } from './espi-fetch-log.js'

const authorization = (id: string, customer: string) => ({ id, customer_id: customer }) as AuthorizationRow

describe('the ESPI fetch log', () => {
  it('names the resource a route serves', () => {
    const base = '/espi/1_1/resource'
    expect(resourceKindOf(`${base}/Subscription/:sub/UsagePoint/:up/MeterReading/:mr/IntervalBlock`)).toBe(
      'IntervalBlock',
    )
    expect(
      resourceKindOf(`${base}/Subscription/:sub/UsagePoint/:up/MeterReading/:mr/IntervalBlock/:start`),
    ).toBe('IntervalBlock')
    expect(resourceKindOf(`${base}/Batch/Subscription/:sub`)).toBe('Batch/Subscription')
    expect(resourceKindOf(`${base}/Batch/Subscription/:sub/UsagePoint/:up`)).toBe('Batch/UsagePoint')
    expect(resourceKindOf(`${base}/ReadingType/:id`)).toBe('ReadingType')
  })

  it('takes in every block served into one period', () => {
    const served: Served = { authorizations: new Map() }
    servedReadings(served, 7200, 10800)
    servedReadings(served, 3600, 7200)
    expect(served.period).toEqual({ start: 3600, end: 10800 })
  })

  it('writes a row per customer served, and no bytes for a response shared by several', () => {
    const one: Served = { authorizations: new Map([['au_1', authorization('au_1', 'alice')]]) }
    expect(fetchRows(one, 'client', 'IntervalBlock', 120, 5)).toEqual([
      {
        at: 5,
        customer_id: 'alice',
        authorization_id: 'au_1',
        client_id: 'client',
        kind: 'IntervalBlock',
        period_start: null,
        period_end: null,
        bytes: 120,
      },
    ])
    const bulk: Served = {
      authorizations: new Map([
        ['au_1', authorization('au_1', 'alice')],
        ['au_2', authorization('au_2', 'bob')],
      ]),
      period: { start: 0, end: 3600 },
    }
    const rows = fetchRows(bulk, 'client', 'Batch/Bulk', 999, 5)
    expect(rows.map((r) => [r.customer_id, r.bytes, r.period_end])).toEqual([
      ['alice', null, 3600],
      ['bob', null, 3600],
    ])
  })
})
