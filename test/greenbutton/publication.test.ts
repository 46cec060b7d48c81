import { createReadStream, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsentService } from '../../src/consent/consent-service.js'
import type { Custodian } from '../../src/custodian.js'
import { feedEnd, feedStart } from '../../src/greenbutton/atom-writer.js'
import { dataWindow } from '../../src/greenbutton/data-window.js'
import { usagePointTree } from '../../src/greenbutton/espi-feeds.js'
import { type EspiEntry, readEspi } from '../../src/greenbutton/espi-reader.js'
import { formatOf, UsageDataService } from '../../src/greenbutton/usage-data-service.js'
import { corpusPath } from '../support/corpus.js'
import { ALICE } from '../support/customers.js'
import { custodianOn, storeBackends } from '../support/temp-store.js'
import { validateGreenButton } from '../support/xmllint.js'

const DATA = corpusPath('data/greenbutton')
const valid = readdirSync(DATA).filter((f) => f.endsWith('.xml'))
const invalid = readdirSync(join(DATA, 'schema-invalid')).map((f) => join('schema-invalid', f))
const BASE = 'https://utility.example/espi/1_1/resource'

const text = (content: string) =>
  (async function* () {
    yield content
  })()

/** Readings by start, as a map per feed: what a third party would store. */
const readingsOf = (entries: EspiEntry[]) => {
  const out = new Map<number, number>()
  for (const e of entries)
    if (e.content.kind === 'IntervalBlock' && 'readings' in e.content)
      for (const r of e.content.readings) out.set(r.start, r.value)
  return out
}

describe.each(storeBackends)('publishing Green Button data on $name', ({ make }) => {
  let close: () => Promise<void>
  let custodian: Custodian
  let consent: ConsentService
  let usage: UsageDataService
  let now = Date.parse('2026-11-23T10:00:00Z')
  let authorizationId: string
  const points: Record<string, string> = {}

  beforeAll(async () => {
    ;({ custodian, close } = await custodianOn(make, {
      clock: () => now,
      config: { publicUrl: 'https://utility.example' },
    }))
    consent = new ConsentService(custodian)
    usage = new UsageDataService(custodian)
    await consent.createCustomer(undefined, ALICE)
    for (const id of ['up_front', 'up_back']) {
      await consent.createUsagePoint(undefined, {
        customer: 'alice',
        description: id,
        kind: 'electricity',
        id,
      })
      points[id] = id
    }
    // Kept empty: a refused import into it must leave it without a single row.
    await consent.createUsagePoint(undefined, {
      customer: 'alice',
      description: 'spare',
      kind: 'electricity',
      id: 'up_spare',
    })
    const party = await consent.registerThirdParty(undefined, {
      name: 'Solar Savings',
      description: 'Sizes solar panels from your usage',
      redirectUris: ['https://solar.example/callback'],
      notifyUri: 'https://solar.example/notify',
      scope: 'FB=1_3_4_5_15_16_17',
    })
    const alice = (await custodian.login('alice', 'alice password')).token
    const granted = await consent.grant(alice, {
      clientId: party.clientId,
      usagePointIds: ['up_front'],
      scope: 'FB=1_3_4_5_15_16_17',
      periodEnd: '2027-11-23T10:00:00Z',
    })
    authorizationId = granted.details?.id as string
  })
  afterAll(async () => {
    await close()
  })

  const importFile = (file: string, usagePoint = 'up_front') =>
    usage.import(undefined, {
      name: file,
      format: formatOf(file),
      chunks: createReadStream(join(DATA, file), { highWaterMark: 4096 }),
      mapping: { usagePoint },
    })

  /** Every Green Button row and undelivered message in the store: what a refused import must leave as it was. */
  const stored = async () => {
    const resources = await custodian.store.usage.resources([...Object.keys(points), 'up_spare'])
    const meterReadings = resources.filter((r) => r.kind === 'MeterReading').map((r) => r.id)
    const all = { from: 0, to: 2 ** 31 }
    return {
      resources,
      blocks: await Promise.all(
        meterReadings.map((id) =>
          custodian.store.usage.blocks({ meterReadingId: id, ...all, limit: 100_000 }),
        ),
      ),
      readings: await Promise.all(
        meterReadings.map((id) => custodian.store.usage.readings(id, all.from, all.to, 1_000_000)),
      ),
      outbox: await custodian.store.pendingOutbox(100_000),
    }
  }

  /** The Batch of a usage point as the authorization (or `usagePoints` in its place) serves it, whole. */
  const served = async (usagePoint: string, usagePoints?: string[]) => {
    const row = custodian.consent.authorizations.get(authorizationId)
    if (!row) throw new Error('no authorization')
    const window = dataWindow(
      usagePoints ? { ...row, usage_point_ids: JSON.stringify(usagePoints) } : row,
      now,
    )
    let xml = feedStart({
      id: 'urn:uuid:00000000-0000-0000-0000-000000000000',
      title: 't',
      updated: now,
      self: BASE,
    })
    for await (const part of usagePointTree(
      { store: custodian.store.usage, base: BASE, filter: {}, depth: 3 },
      window,
      `${BASE}/Subscription/${row.subscription_id}`,
      usagePoint,
    ))
      xml += part
    return xml + feedEnd()
  }

  it.each(valid)('ingests %s', async (file) => {
    const report = await importFile(file)
    const expected = (readFileSync(join(DATA, file), 'utf8').match(/<IntervalReading>/g) ?? []).length
    expect(report.readings).toBe(expected)
    if (expected > 0) expect(report.usagePoints).toEqual(['up_front'])
    else expect(report.warnings.map((w) => w.message).join('\n')).toMatch(/skipped: Custodian keeps its own/)
  })

  it('serves back what it ingested, valid against the Green Button schema, with the same readings', async () => {
    const file = 'test_usage_data.xml'
    await importFile(file, 'up_back')
    // up_back is not within the authorization: the window is widened here to read it as published.
    const xml = await served('up_back', ['up_back'])
    const validation = await validateGreenButton(xml)
    expect(validation.errors).toBe('')
    expect(validation.valid).toBe(true)
    const original = await readEspi(createReadStream(join(DATA, file)))
    const back = await readEspi(text(xml))
    expect(readingsOf(back.entries)).toEqual(readingsOf(original.entries))
    const kinds = (entries: EspiEntry[]) => [...new Set(entries.map((e) => e.content.kind))].sort()
    expect(kinds(back.entries)).toEqual(kinds(original.entries))
    expect(back.entries.find((e) => e.content.kind === 'UsagePoint')?.title).toBe('Front Electric Meter')
  })

  it('refuses what is not Green Button data with the position and reason, leaving nothing behind', async () => {
    const before = await served('up_front')
    const cases: [string, RegExp][] = [
      ['not xml at all', /bad\.xml:1:\d+: .*(text|root|element)/i],
      [
        '<feed xmlns="http://example.org/not-atom"/>',
        /bad\.xml:1:\d+: a Green Button document is an Atom feed/,
      ],
      [
        '<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]><feed xmlns="http://www.w3.org/2005/Atom"/>',
        /bad\.xml:1:\d+: a DOCTYPE is not allowed/,
      ],
    ]
    const file = readFileSync(join(DATA, 'test_usage_data_01.xml'), 'utf8')
    // A whole file whose last reading is broken: the readings before it must not stay.
    const last = file.lastIndexOf('<value>', file.lastIndexOf('</IntervalReading>'))
    const broken = `${file.slice(0, last)}<value>12.5</value>${file.slice(file.indexOf('</value>', last) + 8)}`
    cases.push([broken, /bad\.xml:\d+:\d+: IntervalReading value must be a whole number, found "12\.5"/])
    const rows = await stored()
    for (const usagePoint of ['up_front', 'up_spare'])
      for (const [content, reason] of cases) {
        await expect(
          usage.import(undefined, {
            name: 'bad.xml',
            format: 'xml',
            chunks: text(content),
            mapping: { usagePoint },
          }),
        ).rejects.toThrow(reason)
      }
    expect(await served('up_front')).toBe(before)
    // The broken file's readings are new to up_spare: all or nothing means none of them, and no resource.
    expect(await custodian.store.usage.resources(['up_spare'])).toEqual([])
    expect(await stored()).toEqual(rows)
  })

  /** What each schema-invalid file gets: a refusal at a position, or an import with warnings. */
  const INVALID: Record<
    string,
    { error: string } | { warnings: { line: number; column: number; message: string }[] }
  > = {
    'Customer-Subscription-Feed-Anonymized.xml': { error: '1:0: no readings: the document has no entries' },
    'ServiceCategory.xml': {
      error:
        '22:57: a Green Button document is an Atom feed or entry; this one starts with espi:ServiceCategory in namespace "http://naesb.org/espi"',
    },
    'Usage-Subscription-Feed-Anonymized.xml': {
      warnings: [
        {
          line: 51,
          column: 22,
          message:
            'ReadingType is nested in its MeterReading (ESPI links it instead): read as that meter reading’s reading type',
        },
      ],
    },
  }

  it.each(invalid)('refuses or warns about %s, never half-importing it', async (file) => {
    const expected = INVALID[file.replace('schema-invalid/', '')]
    if (!expected) throw new Error(`no expected outcome for ${file}: add it to INVALID`)
    const rows = await stored()
    const outcome = await importFile(file).then(
      (report) => ({ report }),
      (error: Error) => ({ error }),
    )
    if ('error' in outcome) {
      expect(outcome.error.message).toMatch(new RegExp(`^${file}:\\d+:\\d+: `))
      expect({ error: outcome.error.message }).toEqual({
        error: 'error' in expected ? `${file}:${expected.error}` : 'an import with warnings',
      })
      expect(await stored()).toEqual(rows)
    } else {
      expect(outcome.report.warnings.length).toBeGreaterThan(0)
      expect({
        warnings: outcome.report.warnings.map((w) => ({ ...w.position, message: w.message })),
      }).toEqual(expected)
      expect(outcome.report.readings).toBe(0)
    }
  })

  it('refuses a usage point that is not mapped to one of Custodian’s, naming it', async () => {
    await expect(
      usage.import(undefined, {
        name: 'test_usage_data_01.xml',
        format: 'xml',
        chunks: createReadStream(join(DATA, 'test_usage_data_01.xml')),
        mapping: {},
      }),
    ).rejects.toThrow(
      /test_usage_data_01\.xml:\d+:\d+: usage point "5446AF3F" is not a Custodian usage point/,
    )
  })

  it('revises estimated readings with actual ones: value and updated change, nothing else is lost', async () => {
    // The first reading of the day is estimated, then revised; the second stays as it was.
    const importDay = (value: number) =>
      usage.import(undefined, {
        name: 'day.csv',
        format: 'csv',
        chunks: text(
          `usage_point,start,duration,value,quality\nup_front,2026-11-20T00:00:00Z,900,${value},8\nup_front,2026-11-20T00:15:00Z,900,20,\n`,
        ),
        mapping: {},
      })
    now = Date.parse('2026-11-23T11:00:00Z')
    const first = await importDay(10)
    expect(first).toMatchObject({ readings: 2, changedReadings: 2, usagePoints: ['up_front'], notified: 1 })
    now = Date.parse('2026-11-23T12:00:00Z')
    const again = await importDay(10)
    expect(again).toMatchObject({ readings: 2, changedReadings: 0, notified: 0 })
    now = Date.parse('2026-11-23T13:00:00Z')
    const actual = await importDay(12)
    expect(actual).toMatchObject({ readings: 2, changedReadings: 1, notified: 1 })
    const meterReading = (await custodian.store.usage.resources(['up_front'])).find(
      (r) => r.kind === 'MeterReading' && r.source === 'MeterReading/csv-900',
    )
    const start = Date.parse('2026-11-20T00:00:00Z') / 1000
    const readings = await custodian.store.usage.readings(meterReading?.id as string, start, start + 1800, 10)
    expect(readings.map((r) => [r.value, r.qualities])).toEqual([
      [12, '8'],
      [20, ''],
    ])
    // The block keeps its first publication and moves its `updated` to the revision; updated-min finds it.
    const blocks = await custodian.store.usage.blocks({
      meterReadingId: meterReading?.id as string,
      from: start,
      to: start + 1800,
      limit: 10,
    })
    expect(blocks.map((b) => [b.published, b.updated])).toEqual([
      [Date.parse('2026-11-23T11:00:00Z'), Date.parse('2026-11-23T13:00:00Z')],
    ])
    const revisedSince = { updatedMin: Date.parse('2026-11-23T12:30:00Z') }
    expect(
      await custodian.store.usage.blocks({
        meterReadingId: meterReading?.id as string,
        from: start,
        to: start + 1800,
        limit: 10,
        ...revisedSince,
      }),
    ).toHaveLength(1)
  })

  it('shows a reading type two meter readings share once in a Batch (issue 19, item 3)', async () => {
    const ESPI = 'http://naesb.org/espi'
    const up = '/espi/1_1/resource/RetailCustomer/9/UsagePoint/9'
    const entry = (self: string, content: string, related = '') =>
      `<entry><id>urn:uuid:${self.replace(/\W/g, '')}</id><link rel="self" href="${self}"/>${related}<title/><content>${content}</content></entry>`
    const shared = '<link rel="related" href="/espi/1_1/resource/ReadingType/shared"/>'
    const report = await usage.import(undefined, {
      name: 'two-meters.xml',
      format: 'xml',
      chunks: text(
        `<feed xmlns="http://www.w3.org/2005/Atom">${[
          entry(`${up}/MeterReading/a`, `<MeterReading xmlns="${ESPI}"/>`, shared),
          entry(`${up}/MeterReading/b`, `<MeterReading xmlns="${ESPI}"/>`, shared),
          entry(
            '/espi/1_1/resource/ReadingType/shared',
            `<ReadingType xmlns="${ESPI}"><intervalLength>900</intervalLength><uom>72</uom></ReadingType>`,
          ),
        ].join('')}</feed>`,
      ),
      mapping: { usagePoint: 'up_front' },
    })
    expect(report.warnings).toEqual([])
    const types = (await custodian.store.usage.resources(['up_front'])).filter(
      (r) => r.kind === 'ReadingType' && r.source === 'ReadingType/shared',
    )
    expect(types).toHaveLength(1)
    const xml = await served('up_front')
    const id = `<id>urn:uuid:${types[0]?.id}</id>`
    expect(xml.split(id).length - 1).toBe(1)
  })

  it('drops, with a warning, readings outside their block’s interval (issue 19, item 6)', async () => {
    const ESPI = 'http://naesb.org/espi'
    const self = '/espi/1_1/resource/RetailCustomer/9/UsagePoint/9/MeterReading/late/IntervalBlock/1'
    const reading = (start: number) =>
      `<IntervalReading><timePeriod><duration>900</duration><start>${start}</start></timePeriod><value>5</value></IntervalReading>`
    const day = Date.UTC(2026, 10, 1) / 1000
    // The block says it starts a day after its first two readings.
    const report = await usage.import(undefined, {
      name: 'late-block.xml',
      format: 'xml',
      chunks: text(
        `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:uuid:late</id><link rel="self" href="${self}"/><title/><content><IntervalBlock xmlns="${ESPI}"><interval><duration>86400</duration><start>${day + 86_400}</start></interval>${reading(day)}${reading(day + 900)}${reading(day + 86_400)}</IntervalBlock></content></entry></feed>`,
      ),
      mapping: { usagePoint: 'up_front' },
    })
    expect(report.readings).toBe(1)
    expect(report.warnings.map((w) => [w.position.line, w.message])).toEqual([
      [
        1,
        `2 of the 3 readings of IntervalBlock ${self} start outside its interval [${day + 86_400}, ${day + 2 * 86_400}): dropped`,
      ],
    ])
  })

  it('gives a usage point fed only IntervalBlocks the operator’s local time and reading type (issue 19, item 9)', async () => {
    await consent.createUsagePoint(undefined, {
      customer: 'alice',
      description: 'blocks only',
      kind: 'electricity',
      id: 'up_lone',
    })
    points.up_lone = 'up_lone'
    const day = Date.UTC(2026, 8, 1) / 1000
    const reading = (start: number, value: number) =>
      `<IntervalReading><timePeriod><duration>900</duration><start>${start}</start></timePeriod><value>${value}</value></IntervalReading>`
    const self = '/espi/1_1/resource/RetailCustomer/9/UsagePoint/9/MeterReading/1/IntervalBlock/1'
    const file = () =>
      text(
        `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:uuid:lone</id><link rel="self" href="${self}"/><title/><content><IntervalBlock xmlns="http://naesb.org/espi"><interval><duration>86400</duration><start>${day}</start></interval>${reading(day, 3)}${reading(day + 900, 4)}${reading(day + 900, 5)}</IntervalBlock></content></entry></feed>`,
      )
    const importLone = () =>
      usage.import(undefined, {
        name: 'lone.xml',
        format: 'xml',
        chunks: file(),
        mapping: { usagePoint: 'up_lone' },
      })
    const report = await importLone()
    // The repeated start is dropped, said; the first of it stays.
    expect(report.warnings.map((w) => w.message)).toEqual([
      `1 readings of IntervalBlock ${self} start where an earlier one of it does: the first of each start kept, the others dropped`,
    ])
    expect(report.stored).toEqual({
      up_lone: {
        readings: 2,
        changedReadings: 2,
        intervalBlocks: 1,
        meterReadings: 1,
        readingTypes: 1,
        summaries: 0,
        defaults: [
          'LocalTimeParameters of time zone UTC',
          expect.stringMatching(/^ReadingType of meter reading [0-9a-f-]{36}$/),
        ],
      },
    })
    const xml = await served('up_lone', ['up_lone'])
    expect(await validateGreenButton(xml)).toEqual({ valid: true, errors: '' })
    const { entries } = await readEspi(text(xml))
    expect(entries.map((e) => e.content.kind)).toEqual([
      'UsagePoint',
      'LocalTimeParameters',
      'MeterReading',
      'ReadingType',
      'IntervalBlock',
    ])
    const [point, time, meterReading, type] = entries
    expect(point?.related).toContain(time?.self)
    expect(meterReading?.related).toContain(type?.self)
    expect(type?.xml).toMatch(/<intervalLength>900<\/intervalLength>.*<uom>72<\/uom>/)
    expect(time?.xml).toMatch(/<tzOffset>0<\/tzOffset>/)
    // Given once: the next import finds them and adds none.
    const again = await importLone()
    expect(again.stored.up_lone).toMatchObject({ readings: 2, changedReadings: 0, defaults: [] })
    expect(await served('up_lone', ['up_lone'])).toBe(xml)
  })

  it('keeps several customers’ usage points apart, mapped by their full paths (issue 19, item 5)', async () => {
    const ESPI = 'http://naesb.org/espi'
    const day = Date.UTC(2026, 9, 1) / 1000
    const blockOf = (customer: number, value: number) =>
      `<entry><id>urn:uuid:c${customer}</id><link rel="self" href="/espi/1_1/resource/RetailCustomer/${customer}/UsagePoint/1/MeterReading/1/IntervalBlock/1"/><title/><content><IntervalBlock xmlns="${ESPI}"><interval><duration>900</duration><start>${day}</start></interval><IntervalReading><timePeriod><duration>900</duration><start>${day}</start></timePeriod><value>${value}</value></IntervalReading></IntervalBlock></content></entry>`
    const file = () =>
      text(`<feed xmlns="http://www.w3.org/2005/Atom">${blockOf(1, 11)}${blockOf(2, 22)}</feed>`)
    const before = await stored()
    const collapsed = await usage
      .import(undefined, {
        name: 'two.xml',
        format: 'xml',
        chunks: file(),
        mapping: { usagePoint: 'up_front' },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    // Refused at the second customer's entry (the position just after its <entry>).
    const second = `<feed xmlns="http://www.w3.org/2005/Atom">${blockOf(1, 11)}<entry>`.length
    expect((collapsed as Error).message).toBe(
      `two.xml:1:${second}: RetailCustomer/1/UsagePoint/1 and RetailCustomer/2/UsagePoint/1 would both be stored as usage point "up_front": map each by its full path in a mapping file ({"RetailCustomer/2/UsagePoint/1": "…"})`,
    )
    expect(await stored()).toEqual(before)
    const report = await usage.import(undefined, {
      name: 'two.xml',
      format: 'xml',
      chunks: file(),
      mapping: {
        map: { 'RetailCustomer/1/UsagePoint/1': 'up_front', 'RetailCustomer/2/UsagePoint/1': 'up_back' },
      },
    })
    expect(report).toMatchObject({ readings: 2, usagePoints: ['up_front', 'up_back'] })
  })

  it('drops, with a warning, CSV rows repeating the start of an earlier one', async () => {
    const report = await usage.import(undefined, {
      name: 'twice.csv',
      format: 'csv',
      chunks: text(
        'usage_point,start,duration,value\nup_front,2026-10-20T00:00:00Z,900,5\nup_front,2026-10-20T00:00:00Z,900,6\nup_front,2026-10-20T00:15:00Z,900,7\nup_front,2026-10-20T00:00:00Z,900,8\n',
      ),
      mapping: {},
    })
    expect(report.warnings).toEqual([
      {
        position: { line: 3, column: 0 },
        message:
          '2 rows repeat the usage point, duration and start of an earlier row (the first of them here): the earlier row of each kept, the others dropped',
      },
    ])
    expect(report).toMatchObject({ readings: 2, changedReadings: 2 })
    const meterReading = (await custodian.store.usage.resources(['up_front'])).find(
      (r) => r.source === 'MeterReading/csv-900',
    )
    const start = Date.parse('2026-10-20T00:00:00Z') / 1000
    const stored = await custodian.store.usage.readings(meterReading?.id as string, start, start + 1800, 10)
    expect(stored.map((r) => r.value)).toEqual([5, 7])
  })

  it('refuses a CSV row by line and column, leaving nothing behind', async () => {
    const csv =
      'usage_point,start,duration,value\nup_front,2026-11-21T00:00:00Z,900,5\nup_front,2026-11-21T00:15:00Z,900,lots\n'
    const rows = await stored()
    await expect(
      usage.import(undefined, { name: 'bad.csv', format: 'csv', chunks: text(csv), mapping: {} }),
    ).rejects.toThrow(/^bad\.csv:3:0: value: "lots" is not a whole number$/)
    const start = Date.parse('2026-11-21T00:00:00Z') / 1000
    const meterReading = (await custodian.store.usage.resources(['up_front'])).find(
      (r) => r.source === 'MeterReading/csv-900',
    )
    expect(
      await custodian.store.usage.readings(meterReading?.id as string, start, start + 86400, 10),
    ).toEqual([])
    expect(await stored()).toEqual(rows)
  })

  it('notifies the third party once per publication, absorbing an undelivered older notice', async () => {
    const pending = await custodian.store.pendingOutbox(100)
    const notices = pending.filter((m) => m.subject === 'data published')
    // Several publications above reached the authorized usage point; only the newest is still due.
    const due = notices.filter((m) => !m.next_attempt_at.startsWith('9999'))
    expect(due).toHaveLength(1)
    expect(due[0]?.target).toBe('https://solar.example/notify')
    expect(due[0]?.body).toMatch(
      new RegExp(
        `<BatchList xmlns="http://naesb.org/espi"><resources>${BASE}/Batch/Subscription/su_[\\w-]+/UsagePoint/[0-9a-f-]{36}</resources></BatchList>`,
      ),
    )
    // Each older one was absorbed by the next, which names the same usage point.
    expect(notices.filter((m) => m.superseded_by !== null).length).toBe(notices.length - 1)
  })
})
