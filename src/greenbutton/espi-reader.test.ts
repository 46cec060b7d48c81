import { createReadStream, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { corpusPath } from '../../test/support/corpus.js'
import { type EspiEntry, EspiReadError, EspiReader, readEspi } from './espi-reader.js'

const DATA = corpusPath('data/greenbutton')
const valid = readdirSync(DATA).filter((f) => f.endsWith('.xml'))
const readFile = (path: string) => readEspi(createReadStream(path))
const readText = (text: string) =>
  readEspi(
    (async function* () {
      yield text
    })(),
  )
const refusal = async (text: string) => {
  const error = await readText(text).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(EspiReadError)
  return error as EspiReadError
}
const readings = (entries: EspiEntry[]) =>
  entries.reduce(
    (n, e) =>
      n + (e.content.kind === 'IntervalBlock' && 'readings' in e.content ? e.content.readings.length : 0),
    0,
  )

describe('reading Green Button files', () => {
  it.each(valid)('reads %s whole, every reading in it', async (file) => {
    const { entries, warnings } = await readFile(join(DATA, file))
    expect(warnings).toEqual([])
    expect(entries.length).toBeGreaterThan(0)
    const xml = readFileSync(join(DATA, file), 'utf8')
    expect(entries.length).toBe((xml.match(/<(\w+:)?entry[\s>]/g) ?? []).length)
    const expected = (readFileSync(join(DATA, file), 'utf8').match(/<IntervalReading>/g) ?? []).length
    expect(readings(entries)).toBe(expected)
  })

  it('reads the usage points, links and readings of the Download My Data feed', async () => {
    const { entries } = await readFile(join(DATA, 'test_usage_data.xml'))
    const point = entries.find((e) => e.content.kind === 'UsagePoint')
    expect(point).toMatchObject({
      title: 'Front Electric Meter',
      self: '/espi/1_1/resource/RetailCustomer/9B6C7066/UsagePoint/5446AF3F',
      content: { kind: 'UsagePoint', serviceKind: 0 },
      published: '2012-10-24T00:00:00Z',
    })
    const block = entries.find((e) => e.content.kind === 'IntervalBlock')
    expect(block?.content).toMatchObject({
      interval: { start: expect.any(Number), duration: expect.any(Number) },
    })
    const first = (block?.content as { readings: { start: number; duration: number; value: number }[] })
      .readings[0]
    expect(first).toEqual(
      expect.objectContaining({
        start: expect.any(Number),
        duration: expect.any(Number),
        value: expect.any(Number),
      }),
    )
  })

  it('gives the same entries whatever the chunk size', async () => {
    const text = readFileSync(join(DATA, 'test_usage_data_01.xml'), 'utf8')
    const whole = (await readText(text)).entries
    const reader = new EspiReader()
    const bits: EspiEntry[] = []
    for (let i = 0; i < text.length; i += 7) bits.push(...reader.write(text.slice(i, i + 7)))
    bits.push(...reader.close())
    expect(bits).toEqual(whole)
  })

  it('keeps a character split across two chunks whole', async () => {
    const bytes = Buffer.from(
      '<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><title>Küche</title><content><UsagePoint xmlns="http://naesb.org/espi"/></content></entry></feed>',
    )
    const at = bytes.indexOf(Buffer.from('ü')) + 1 // between the two bytes of ü
    const { entries } = await readEspi(
      (async function* () {
        yield bytes.subarray(0, at)
        yield bytes.subarray(at)
      })(),
    )
    expect(entries[0]?.title).toBe('Küche')
  })

  it('refuses a fragment that is not an Atom feed or entry, saying where', async () => {
    const error = await readFile(join(DATA, 'schema-invalid/ServiceCategory.xml')).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(EspiReadError)
    expect((error as EspiReadError).position.line).toBe(22)
    expect((error as EspiReadError).reason).toMatch(
      /is an Atom feed or entry; this one starts with espi:ServiceCategory/,
    )
  })

  it('reads a ReadingType misplaced inside its MeterReading, with a warning naming the deviation', async () => {
    const { entries, warnings } = await readFile(
      join(DATA, 'schema-invalid/Usage-Subscription-Feed-Anonymized.xml'),
    )
    expect(warnings).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('ReadingType is nested in its MeterReading'),
      }),
    ])
    expect(entries.find((e) => e.content.kind === 'MeterReading')?.content).toMatchObject({
      readingType: { uom: 72, intervalLength: 3600 },
    })
  })

  it('skips customer (personal) data with a warning', async () => {
    const { warnings } = await readFile(
      join(DATA, 'schema-invalid/Customer-Subscription-Feed-Anonymized.xml'),
    )
    expect(warnings.length).toBeGreaterThan(0)
    expect(warnings[0]?.message).toMatch(/customer resource .* skipped: personal data is not imported/)
    expect(warnings).toEqual([
      {
        position: { line: 16, column: 18 },
        message: 'customer resource Customer skipped: personal data is not imported',
      },
    ])
  })

  it('refuses what is not XML, a DOCTYPE (external entities), the wrong namespace, a bad number, a cut-off file', async () => {
    expect((await refusal('hello')).reason).toMatch(/text data outside of root node|non-whitespace/i)
    const xxe = await refusal(
      '<?xml version="1.0"?>\n<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<feed xmlns="http://www.w3.org/2005/Atom">&x;</feed>',
    )
    expect(xxe.reason).toBe('a DOCTYPE is not allowed (it could declare entities or load external files)')
    expect(xxe.position.line).toBe(2)
    expect((await refusal('<feed xmlns="http://example.org/not-atom"/>')).reason).toMatch(
      /namespace "http:\/\/example.org\/not-atom"/,
    )
    const block = (value: string) =>
      `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id><content>\n<IntervalBlock xmlns="http://naesb.org/espi"><interval><start>0</start><duration>3600</duration></interval>\n<IntervalReading><timePeriod><start>0</start><duration>3600</duration></timePeriod>\n<value>${value}</value></IntervalReading></IntervalBlock></content></entry></feed>`
    expect((await readText(block('42'))).entries[0]?.content).toMatchObject({ readings: [{ value: 42 }] })
    const bad = await refusal(block('4.2e1'))
    expect(bad.reason).toBe('IntervalReading value must be a whole number, found "4.2e1"')
    expect(bad.position.line).toBe(4)
    expect((await refusal('<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>x</id>')).reason).toMatch(
      /unclosed|end of/i,
    )
  })
})
