import { describe, expect, it } from 'vitest'
import { accessEnds, customerLocale, formatDay, lastDay } from './end-of-access.js'
import { describeScopeText, joinWords, meterLabel, scopeSentence } from './scope-wording.js'

describe('an ESPI scope in plain language', () => {
  it('names the data, how far back and how often, from every term of the stored scope', () => {
    expect(describeScopeText('FB=4_5;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13')).toEqual({
      data: ['hourly electricity use'],
      history: 'the last 13 months',
      frequency: 'updated monthly',
    })
  })

  it('names usage summaries and costs, and several interval lengths, once each', () => {
    expect(describeScopeText('FB=1_4_5_12_15_16;IntervalDuration=900_3600').data).toEqual([
      '15-minute and hourly electricity use',
      'monthly usage summaries',
      'bills and costs',
    ])
  })

  it('says "energy" when no commodity block is named, and every interval when no IntervalDuration is', () => {
    expect(describeScopeText('FB=4').data).toEqual(['energy use, at every interval your meter records'])
    expect(describeScopeText('FB=4_10;IntervalDuration=86400').data).toEqual(['daily gas use'])
    expect(describeScopeText('FB=4_5;IntervalDuration=7200').data).toEqual(['2-hour electricity use'])
  })

  it('says what is shared when no block carries readings, rather than a list of protocol features', () => {
    expect(describeScopeText('FB=1_3_13_14_39').data).toEqual([
      'what your chosen meters measure, without any readings',
    ])
  })

  it('reads the history in blocks, in seconds without a block length, and unlimited without a length', () => {
    expect(describeScopeText('FB=4;BlockDuration=daily;HistoryLength=1').history).toBe('the last day')
    expect(describeScopeText('FB=4;HistoryLength=34128000').history).toBe('the last 395 days')
    expect(describeScopeText('FB=4').history).toBe('all your past data')
  })

  it('reads how often from SubscriptionFrequency first, then the block length', () => {
    expect(describeScopeText('FB=4;BlockDuration=monthly;SubscriptionFrequency=86400').frequency).toBe(
      'updated daily',
    )
    expect(describeScopeText('FB=4;BlockDuration=daily').frequency).toBe('updated daily')
    expect(describeScopeText('FB=4').frequency).toBe('updated whenever your utility receives new readings')
  })

  it('grants nothing, in words, for a stored scope that no longer parses', () => {
    expect(describeScopeText('nonsense').data).toEqual(['nothing (this permission can no longer be read)'])
  })

  it('makes one sentence for an email', () => {
    expect(
      scopeSentence(
        describeScopeText('FB=4_5_15;IntervalDuration=3600;BlockDuration=daily;HistoryLength=30'),
      ),
    ).toBe('Hourly electricity use and monthly usage summaries, covering the last 30 days, updated daily.')
    expect(joinWords(['a', 'b', 'c'])).toBe('a, b and c')
  })
})

describe('a meter as its customer knows it', () => {
  it('adds the kind only when the description does not say it, and never shows an id', () => {
    expect(meterLabel({ description: 'Home, electricity', service_kind: 'electricity' })).toBe(
      'Home, electricity',
    )
    expect(meterLabel({ description: 'Garage meter', service_kind: 'gas' })).toBe('Garage meter (gas)')
    expect(meterLabel({ description: '', service_kind: 'water' })).toBe('Water meter')
  })
})

describe('the end of access, inclusive of the day shown', () => {
  it('shows the day before an exclusive midnight end: the day the customer chose', () => {
    expect(lastDay('2026-12-01T00:00:00.000Z')).toBe('2026-11-30')
    expect(accessEnds('2026-12-01T00:00:00.000Z', 'en-GB')).toBe('access ends after 30 November 2026')
    expect(accessEnds('2026-12-01T00:00:00.000Z', 'en-GB', Date.parse('2026-12-01T00:00:00.000Z'))).toBe(
      'access ended after 30 November 2026',
    )
    // An end in the middle of a day leaves that day readable (in part): it is the day shown.
    expect(lastDay('2026-12-01T10:00:00.000Z')).toBe('2026-12-01')
  })

  it('writes the day in the customer’s locale', () => {
    expect(formatDay('2026-11-30', 'en-US')).toBe('November 30, 2026')
    expect(formatDay('2026-11-30', 'de-DE')).toBe('30. November 2026')
  })

  it('takes the most preferred locale Intl knows from Accept-Language, en-GB otherwise', () => {
    expect(customerLocale('fr-CA;q=0.5, de-DE, en;q=0.8')).toBe('de-DE')
    expect(customerLocale('*, x-!!, en-US;q=0')).toBe('en-GB')
    expect(customerLocale(undefined)).toBe('en-GB')
    expect(customerLocale('nl')).toBe('nl')
  })
})
