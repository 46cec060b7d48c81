import { describe, expect, it } from 'vitest'
import { satelliteStanding } from './party-source.js'

/** How a Satellite's parties_info reads as a party's standing (iSHARE `adherence`). */
describe('satelliteStanding', () => {
  const at = Date.parse('2026-06-01T00:00:00Z')
  const info = (adherence: object) => ({ count: 1, data: [{ party_id: 'P', party_name: 'P', adherence }] })

  it('stands an Active party within its adherence dates, or with none', () => {
    expect(satelliteStanding(info({ status: 'Active' }), 'P', at)).toEqual({ active: true })
    expect(
      satelliteStanding(
        info({ status: 'Active', start_date: '2026-01-01T00:00:00Z', end_date: '2027-01-01T00:00:00Z' }),
        'P',
        at,
      ),
    ).toEqual({ active: true })
  })

  it('refuses, saying why, a party not Active, outside its dates, or not in the answer', () => {
    expect(satelliteStanding(info({ status: 'Not Active' }), 'P', at)).toEqual({
      active: false,
      reason: 'the participant register says P is Not Active',
    })
    expect(satelliteStanding(info({ status: 'Active', end_date: '2026-05-01T00:00:00Z' }), 'P', at)).toEqual({
      active: false,
      reason: 'the participant register says P adheres until 2026-05-01T00:00:00Z, not now',
    })
    expect(satelliteStanding(info({ status: 'Active' }), 'Q', at)).toEqual({
      active: false,
      reason: 'the participant register does not know Q',
      unknown: true,
    })
    expect(() => satelliteStanding({ count: 0 }, 'P', at)).toThrow(
      'its party_token has no parties_info.data list',
    )
  })
})
