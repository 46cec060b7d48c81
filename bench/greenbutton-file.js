// The Green Button file the import benchmarks share (greenbutton-import, import-latency): 15-minute readings
// with cost and quality for one meter, from 2016-01-01, in daily IntervalBlocks, as a utility's export has them.

export const INTERVAL = 900
const PER_DAY = 86_400 / INTERVAL
const FIRST_DAY = Date.UTC(2016, 0, 1) / 1000
const BASE = '/espi/1_1/resource/RetailCustomer/1/UsagePoint/up'
const ESPI = 'http://naesb.org/espi'

/** `days` days of readings; values vary so that no benchmark writes one repeated row. `shift` revises them. */
export function fifteenMinuteReadings(days, shift = 0) {
  const readings = []
  for (let day = 0; day < days; day++) {
    for (let k = 0; k < PER_DAY; k++) {
      readings.push({
        start: FIRST_DAY + day * 86_400 + k * INTERVAL,
        value: 150 + ((k * 37 + day * 11 + shift) % 900),
        cost: 900 + ((k * 13 + day * 7) % 200),
        quality: (k + day) % 20 === 0 ? 8 : 7,
      })
    }
  }
  return readings
}

const entry = (path, content, related = '') =>
  `<entry><id>urn:uuid:${path}</id><link rel="self" href="${BASE}${path}"/>${related}<title/>` +
  `<content>${content}</content><published>2026-01-01T00:00:00Z</published>` +
  `<updated>2026-01-01T00:00:00Z</updated></entry>\n`

/** The ESPI Atom document of `readings` (whole days of fifteenMinuteReadings). */
export function greenButtonFile(readings) {
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
      `<intervalLength>${INTERVAL}</intervalLength><kind>12</kind><uom>72</uom></ReadingType></content></entry>\n`,
  )
  for (let day = 0; day * PER_DAY < readings.length; day++) {
    const body = []
    for (let k = 0; k < PER_DAY; k++) {
      const r = readings[day * PER_DAY + k]
      body.push(
        `<IntervalReading><cost>${r.cost}</cost><ReadingQuality><quality>${r.quality}</quality></ReadingQuality>` +
          `<timePeriod><duration>${INTERVAL}</duration><start>${r.start}</start></timePeriod>` +
          `<value>${r.value}</value></IntervalReading>\n`,
      )
    }
    parts.push(
      entry(
        `/MeterReading/01/IntervalBlock/${day + 1}`,
        `<IntervalBlock xmlns="${ESPI}"><interval><duration>86400</duration>` +
          `<start>${FIRST_DAY + day * 86_400}</start></interval>\n${body.join('')}</IntervalBlock>`,
      ),
    )
  }
  parts.push('</feed>\n')
  return parts.join('')
}
