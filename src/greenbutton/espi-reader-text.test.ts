import { describe, expect, it } from 'vitest'
import { EspiReadError, readEspi } from './espi-reader.js'

const ESPI = 'http://naesb.org/espi'
const read = (text: string) =>
  readEspi(
    (async function* () {
      yield text
    })(),
  )

/** One IntervalBlock entry of `count` readings, each on its own line after `indent` spaces. */
function block(count: number, indent: number): string {
  const line = `\n${' '.repeat(indent)}`
  const readings = Array.from(
    { length: count },
    (_, i) =>
      `${line}<IntervalReading><timePeriod><duration>900</duration><start>${1_600_000_000 + i * 900}</start></timePeriod><value>${i}</value></IntervalReading>`,
  ).join('')
  return `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:uuid:b</id>
  <link rel="self" href="/espi/1_1/resource/RetailCustomer/1/UsagePoint/1/MeterReading/1/IntervalBlock/1"/>
  <content><IntervalBlock xmlns="${ESPI}"><interval><duration>${count * 900}</duration><start>1600000000</start></interval>${readings}
  </IntervalBlock></content></entry></feed>`
}

describe('the text of an element', () => {
  it('does not count the indentation between its children (a week of readings, 10,080 lines)', async () => {
    const { entries } = await read(block(2_000, 12)) // 26,000 characters of indentation
    const content = entries[0]?.content as { readings?: unknown[] }
    expect(content.readings).toHaveLength(2_000)
  })

  it('still refuses a value longer than the limit, naming it', async () => {
    const long = `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:uuid:x</id><title>${'x'.repeat(10_001)}</title></entry></feed>`
    const error = await read(long).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(EspiReadError)
    expect((error as Error).message).toMatch(/longer than 10000 characters/)
  })
})
