import { describe, expect, it } from 'vitest'
import { EspiReadError, readEspi } from './espi-reader.js'
import { wholeNumber } from './interval-reading-draft.js'

const ESPI = 'http://naesb.org/espi'
const blockOf = (readings: string) =>
  `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><content>\n<IntervalBlock xmlns="${ESPI}">` +
  `<interval><start>0</start><duration>3600</duration></interval>\n${readings}</IntervalBlock></content></entry></feed>`
const read = async (readings: string) => {
  const { entries } = await readEspi([blockOf(readings)])
  return entries[0]?.content
}
const refused = (readings: string) =>
  readEspi([blockOf(readings)]).then(
    () => {
      throw new Error('accepted')
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(EspiReadError)
      return error as EspiReadError
    },
  )

describe('IntervalReadings read as they stream', () => {
  it('takes the first timePeriod, value and cost, every ReadingQuality, and skips what it does not know', async () => {
    const reading =
      '<IntervalReading><cost>7</cost><cost>8</cost>' +
      '<ReadingQuality><quality>8</quality><quality>9</quality></ReadingQuality><ReadingQuality> 17 </ReadingQuality>' +
      '<timePeriod><start>900</start><duration>900</duration><start>5</start></timePeriod>' +
      '<timePeriod><start>1</start><duration>1</duration></timePeriod>' +
      '<extra><value>not read</value></extra><value> 12 </value><value>13</value></IntervalReading>\n' +
      '<IntervalReading><timePeriod><duration>900</duration><start>1800</start></timePeriod><value>-3</value></IntervalReading>'
    expect(await read(reading)).toEqual({
      kind: 'IntervalBlock',
      interval: { start: 0, duration: 3600 },
      readings: [
        { start: 900, duration: 900, value: 12, cost: 7, qualities: [8, 17] },
        { start: 1800, duration: 900, value: -3, qualities: [] },
      ],
    })
  })

  it('refuses a reading without what it needs, or with a number that is not one, saying where', async () => {
    const noValue = await refused(
      '<IntervalReading>\n<timePeriod><start>0</start><duration>9</duration></timePeriod></IntervalReading>',
    )
    expect(noValue.reason).toBe('IntervalReading needs a timePeriod and a value')
    expect(noValue.position.line).toBe(3)
    const noStart = await refused(
      '<IntervalReading><timePeriod>\n<duration>9</duration></timePeriod><value>1</value></IntervalReading>',
    )
    expect(noStart.reason).toBe('timePeriod needs a start and a duration')
    const badQuality = await refused(
      '<IntervalReading><ReadingQuality>\n\n<quality>x8</quality></ReadingQuality></IntervalReading>',
    )
    expect(badQuality.reason).toBe('ReadingQuality quality must be a whole number, found "x8"')
    expect(badQuality.position.line).toBe(5)
    expect((await refused('<IntervalReading><cost>99999999999999999</cost></IntervalReading>')).reason).toBe(
      'IntervalReading cost is out of range: 99999999999999999',
    )
  })

  it('refuses a text longer than the limit inside a reading', async () => {
    const { reason } = await refused(
      `<IntervalReading><value>${'1'.repeat(10_001)}</value></IntervalReading>`,
    )
    expect(reason).toMatch(/^the text of value is longer than 10000 characters/)
  })
})

describe('wholeNumber', () => {
  it('reads plain digits and padded ones alike, and refuses what is not a whole number', () => {
    const read = (text: string) => wholeNumber(text, 'n')
    expect(['0', '-0', '42', '-42', '0012', '999999999999999', '-999999999999999'].map(read)).toEqual([
      0, -0, 42, -42, 12, 999_999_999_999_999, -999_999_999_999_999,
    ])
    expect([' 42 ', '\n-7\t', '9007199254740991'].map(read)).toEqual([42, -7, 9_007_199_254_740_991])
    expect(read('9007199254740993')).toBe('n is out of range: 9007199254740993')
    for (const text of ['', '-', '+5', '4.2', '1e3', '１２', '12a', '--1'])
      expect(read(text)).toBe(`n must be a whole number, found "${text.trim()}"`)
  })
})
