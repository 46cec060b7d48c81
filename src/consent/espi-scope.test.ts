import { describe, expect, it } from 'vitest'
import { completeScope, type EspiScope, parseEspiScope, scopeWithin } from './espi-scope.js'

const parsed = (text: string): EspiScope => {
  const result = parseEspiScope(text)
  if (!result.ok) throw new Error(`${result.part}: ${result.reason}`)
  return result.scope
}

describe('ESPI scope strings', () => {
  it('parses a scope with every part and gives the history in seconds from the block duration', () => {
    expect(parsed('FB=4_5_15;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13')).toEqual({
      functionBlocks: [4, 5, 15],
      intervalDurations: [3600],
      blockDuration: 'monthly',
      historyLength: 13,
      historySeconds: 13 * 31 * 86_400,
      text: 'FB=4_5_15;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13',
    })
  })

  it("reads a deployed custodian's lower-case historyLength as seconds when no block duration is given", () => {
    const scope = parsed('FB=1_3_4_5_13_15_16_31_37_39;historyLength=32148000')
    expect(scope.historySeconds).toBe(32_148_000)
    expect(scope.text).toBe('FB=1_3_4_5_13_15_16_31_37_39;HistoryLength=32148000')
  })

  it('sorts and de-duplicates blocks and durations into a canonical text', () => {
    expect(parsed('IntervalDuration=3600_900_900;FB=39_4_4_1;').text).toBe(
      'FB=1_4_39;IntervalDuration=900_3600',
    )
  })

  it.each([
    ['', '', 'the scope is empty'],
    ['FB=4 5', 'FB=4 5', 'an ESPI scope is one token without spaces'],
    ['IntervalDuration=900', 'IntervalDuration=900', 'FB (the function blocks) is required'],
    ['FB=4__5', 'FB=4__5', 'function blocks are numbers 1-99 joined by _'],
    [
      'FB=4;IntervalDuration=15m',
      'IntervalDuration=15m',
      'interval durations are seconds (whole numbers > 0) joined by _',
    ],
    [
      'FB=4;BlockDuration=fortnightly',
      'BlockDuration=fortnightly',
      'expected one of hourly, daily, weekly, monthly, billing, seasonal, yearly',
    ],
    ['FB=4;HistoryLength=0', 'HistoryLength=0', 'a whole number > 0 is expected'],
    ['FB=4;Colour=red', 'Colour=red', expect.stringMatching(/^unknown term "Colour"/)],
    ['FB=4;FB=5', 'FB=5', 'FB is given twice'],
    ['FB=4;oops', 'oops', 'expected Name=Value'],
  ])('refuses %j, naming the part %j', (text, part, reason) => {
    expect(parseEspiScope(text)).toEqual({ ok: false, part, reason })
  })

  it('keeps a request within the allowance, and says what exceeds it', () => {
    const allowed = parsed('FB=1_4_5_15;IntervalDuration=900_3600;BlockDuration=monthly;HistoryLength=13')
    expect(
      scopeWithin(parsed('FB=4_5;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=12'), allowed),
    ).toEqual({ ok: true })
    expect(scopeWithin(parsed('FB=4_16'), allowed)).toEqual({
      ok: false,
      reason: 'function block(s) 16 are not among those allowed (1_4_5_15)',
    })
    expect(scopeWithin(parsed('FB=4;IntervalDuration=60'), allowed)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('IntervalDuration 60'),
    })
    expect(
      scopeWithin(parsed('FB=4;IntervalDuration=900;BlockDuration=monthly;HistoryLength=24'), allowed),
    ).toMatchObject({
      ok: false,
      reason: expect.stringContaining('history'),
    })
  })

  it('takes every term a request leaves out from the allowance', () => {
    const allowed = parsed('FB=1_4_5_15;IntervalDuration=900_3600;BlockDuration=monthly;HistoryLength=13')
    expect(scopeWithin(parsed('FB=4'), allowed)).toEqual({ ok: true })
    expect(completeScope(parsed('FB=4'), allowed).text).toBe(
      'FB=4;IntervalDuration=900_3600;BlockDuration=monthly;HistoryLength=13',
    )
    expect(
      completeScope(parsed('FB=4;IntervalDuration=900;BlockDuration=daily;HistoryLength=30'), allowed).text,
    ).toBe('FB=4;IntervalDuration=900;BlockDuration=daily;HistoryLength=30')
  })
})
