// The Green Button file the import benchmarks share (greenbutton-import, import-latency), and the tests of a
// week of 1-minute readings: readings with cost and quality for one meter, from 2016-01-01, in IntervalBlocks
// (daily by default, as a utility's export has them).

export const INTERVAL = 900
const DAY = 86_400
const FIRST_DAY = Date.UTC(2016, 0, 1) / 1000
const BASE = '/espi/1_1/resource/RetailCustomer/1/UsagePoint/up'
const ESPI = 'http://naesb.org/espi'

/** `days` days of readings every `interval` seconds; values vary so that no benchmark writes one repeated row. `shift` revises them. */
export function readingsEvery(interval, days, shift = 0) {
  const perDay = DAY / interval
  const readings = []
  for (let day = 0; day < days; day++) {
    for (let k = 0; k < perDay; k++) {
      readings.push({
        start: FIRST_DAY + day * DAY + k * interval,
        value: 150 + ((k * 37 + day * 11 + shift) % 900),
        cost: 900 + ((k * 13 + day * 7) % 200),
        quality: (k + day) % 20 === 0 ? 8 : 7,
      })
    }
  }
  return readings
}

/** `days` days of 15-minute readings. */
export const fifteenMinuteReadings = (days, shift = 0) => readingsEvery(INTERVAL, days, shift)

const entry = (path, content, related = '') =>
  `<entry><id>urn:uuid:${path}</id><link rel="self" href="${BASE}${path}"/>${related}<title/>` +
  `<content>${content}</content><published>2026-01-01T00:00:00Z</published>` +
  `<updated>2026-01-01T00:00:00Z</updated></entry>\n`

/**
 * The ESPI Atom document of `readings` (whole blocks of readingsEvery's `interval`): a UsagePoint, its
 * MeterReading and ReadingType, and IntervalBlocks of `block` seconds each.
 */
export function greenButtonFile(readings, { interval = INTERVAL, block = DAY } = {}) {
  const perBlock = block / interval
  const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n']
  parts.push(
    entry('', `<UsagePoint xmlns="${ESPI}"><ServiceCategory><kind>0</kind></ServiceCategory></UsagePoint>`),
    entry(
      '/MeterReading/01',
      `<MeterReading xmlns="${ESPI}"/>`,
      '<link rel="related" href="/espi/1_1/resource/ReadingType/07"/>',
    ),
    `<entry><id>urn:uuid:rt</id><link rel="self" href="/espi/1_1/resource/ReadingType/07"/><title/><content>` +
      `<ReadingType xmlns="${ESPI}"><accumulationBehaviour>4</accumulationBehaviour><commodity>1</commodity>` +
      `<intervalLength>${interval}</intervalLength><kind>12</kind><uom>72</uom></ReadingType></content></entry>\n`,
  )
  for (let b = 0; b * perBlock < readings.length; b++) {
    const body = []
    for (let k = 0; k < perBlock; k++) {
      const r = readings[b * perBlock + k]
      body.push(
        `<IntervalReading><cost>${r.cost}</cost><ReadingQuality><quality>${r.quality}</quality></ReadingQuality>` +
          `<timePeriod><duration>${interval}</duration><start>${r.start}</start></timePeriod>` +
          `<value>${r.value}</value></IntervalReading>\n`,
      )
    }
    parts.push(
      entry(
        `/MeterReading/01/IntervalBlock/${b + 1}`,
        `<IntervalBlock xmlns="${ESPI}"><interval><duration>${block}</duration>` +
          `<start>${FIRST_DAY + b * block}</start></interval>\n${body.join('')}</IntervalBlock>`,
      ),
    )
  }
  parts.push('</feed>\n')
  return parts.join('')
}
