import { describe, expect, it } from 'vitest'
import { type BlockQuery, backends, PARKED, type Store, storeFixture } from './backends.js'

const T1 = Date.UTC(2026, 10, 23, 10)
const T2 = T1 + 3_600_000
const T3 = T2 + 3_600_000
const DAY = Date.UTC(2026, 10, 20) / 1000

const meterReading = (content = '<MeterReading/>') => ({
  usagePointId: 'up1',
  kind: 'MeterReading',
  source: 'MeterReading/01',
  title: 'Meter',
  content,
})
const block = (readings: ReturnType<typeof quarter>[]) => ({
  start: readings[0]?.start ?? DAY,
  duration: readings.length * 900,
})
const quarter = (i: number, value: number, cost: number | null = null) => ({
  start: DAY + i * 900,
  duration: 900,
  value,
  cost,
  qualities: value % 2 === 0 ? [] : [8],
})
/** A publication notice naming `topics` (its body lists them), which a newer one may absorb. */
const notice = (...topics: string[]) => {
  const compose = (names: readonly string[]) => names.join(' ')
  return {
    channel: 'http' as const,
    target: 'https://solar.example/notify',
    subject: 'data published',
    body: compose(topics),
    contentType: 'application/xml',
    merge: { topics, compose },
  }
}

/** Every row of Green Button data the store holds, to compare before and after. */
const everything = async (store: Store, meterReadingId: string) => ({
  resources: await store.usage.resources(['up1', 'up2']),
  blocks: await store.usage.blocks({ meterReadingId, from: 0, to: 2 ** 31, limit: 1000 }),
  readings: await store.usage.readings(meterReadingId, 0, 2 ** 31, 1000),
  outbox: await store.pendingOutbox(1000),
})

describe.each(backends)('the Green Button usage data store on $name', ({ make }) => {
  const fixture = storeFixture(make)
  let id = ''
  const put = (at: number, content?: string, placeholder?: boolean) =>
    fixture.store.usage.importing(at, (w) => w.putResource(meterReading(content), at, placeholder))
  const readings = async (at: number, list: ReturnType<typeof quarter>[], meterReadingId = id) =>
    (await fixture.store.usage.importing(at, (w) => w.putBlock(meterReadingId, block(list), list)))
      .changedReadings

  it('adds a resource, revises it only when it changed, and keeps its place for a placeholder', async () => {
    const { store } = fixture
    const added = (await put(T1)).result
    id = added.id
    expect(added.changed).toBe(true)
    const row = {
      id,
      usage_point_id: 'up1',
      kind: 'MeterReading',
      source: 'MeterReading/01',
      link_id: null,
      interval_length: null,
      title: 'Meter',
      content: '<MeterReading/>',
      published: T1,
      updated: T1,
    }
    expect(await store.usage.resource(id)).toEqual(row)
    expect((await put(T2)).result).toEqual({ id, changed: false })
    expect((await put(T2, '<MeterReading>x</MeterReading>', true)).result).toEqual({ id, changed: false })
    expect(await store.usage.resource(id)).toEqual(row)
    expect((await put(T2, '<MeterReading>2</MeterReading>')).result).toEqual({ id, changed: true })
    expect(await store.usage.resource(id)).toEqual({
      ...row,
      content: '<MeterReading>2</MeterReading>',
      updated: T2,
    })
    expect(await store.usage.resource('no-such-id')).toBeUndefined()
  })

  it('links a resource, moving `updated` only when the link changed', async () => {
    const { store } = fixture
    const link = (at: number, length: number | null) =>
      store.usage.importing(at, (w) => w.linkResource(id, 'rt1', length, at))
    await link(T3, 900)
    expect(await store.usage.resource(id)).toMatchObject({
      link_id: 'rt1',
      interval_length: 900,
      updated: T3,
    })
    await link(T3 + 1, 900)
    expect((await store.usage.resource(id))?.updated).toBe(T3)
    await link(T3 + 2, null)
    expect(await store.usage.resource(id)).toMatchObject({
      link_id: 'rt1',
      interval_length: null,
      updated: T3 + 2,
    })
  })

  it('lists the resources of usage points in publication order', async () => {
    const { store } = fixture
    const other = await store.usage.importing(T1 - 1, (w) =>
      w.putResource(
        { ...meterReading(), usagePointId: 'up2', kind: 'UsagePoint', source: 'UsagePoint' },
        T1 - 1,
      ),
    )
    expect((await store.usage.resources(['up1', 'up2'])).map((r) => r.id)).toEqual([other.result.id, id])
    expect((await store.usage.resources(['up1'])).map((r) => r.id)).toEqual([id])
    expect(await store.usage.resources([])).toEqual([])
  })

  it('adds readings, revises those at the same start, and counts only what was new or changed', async () => {
    const { store } = fixture
    const four = [quarter(0, 10), quarter(1, 11, 5), quarter(2, 12), quarter(3, 13)]
    expect(await readings(T1, four)).toBe(4)
    expect(await readings(T2, four)).toBe(0)
    const revised = [quarter(0, 10), quarter(1, 11, null), quarter(2, 20), quarter(3, 13)]
    expect(await readings(T3, revised)).toBe(2)
    expect(await store.usage.readings(id, DAY, DAY + 3600, 10)).toEqual([
      { start: DAY, duration: 900, value: 10, cost: null, qualities: '' },
      { start: DAY + 900, duration: 900, value: 11, cost: null, qualities: '8' },
      { start: DAY + 1800, duration: 900, value: 20, cost: null, qualities: '' },
      { start: DAY + 2700, duration: 900, value: 13, cost: null, qualities: '8' },
    ])
    expect((await store.usage.readings(id, DAY + 900, DAY + 2700, 10)).map((r) => r.start)).toEqual([
      DAY + 900,
      DAY + 1800,
    ])
    expect((await store.usage.readings(id, DAY, DAY + 3600, 1)).map((r) => r.start)).toEqual([DAY])
  })

  it('writes readings in batches larger than one transaction takes, counting revisions across them', async () => {
    const { store } = fixture
    // More than one staging transaction (20,000 readings) and one PostgreSQL round trip (5,000) take.
    const months = Array.from({ length: 24_000 }, (_, i) => quarter(100 + i, i))
    const days = (list: typeof months) => (w: Parameters<Parameters<typeof store.usage.importing>[1]>[0]) =>
      Promise.all(
        Array.from({ length: list.length / 96 }, (_, d) => {
          const day = list.slice(d * 96, d * 96 + 96)
          return w.putBlock(id, block(day), day)
        }),
      )
    expect((await store.usage.importing(T1, days(months))).changedReadings).toBe(24_000)
    const everySeventhRevised = months.map((r, i) => (i % 7 === 0 ? { ...r, value: r.value + 1 } : r))
    expect((await store.usage.importing(T2, days(everySeventhRevised))).changedReadings).toBe(3_429)
    const stored = await store.usage.readings(id, DAY + 100 * 900, DAY + 24_100 * 900, 30_000)
    expect(stored).toHaveLength(24_000)
    expect(stored[7]?.value).toBe(8)
    expect(stored[8]?.value).toBe(8)
  })

  it('adds blocks, widens and marks a block updated when its readings changed, and selects them by time and keyset', async () => {
    const { store } = fixture
    const mr = 'mr-blocks'
    const first = [quarter(0, 1), quarter(1, 2)]
    const nextDay = [quarter(96, 3)]
    await store.usage.importing(T1, async (w) => {
      await w.putBlock(mr, { start: DAY, duration: 1800 }, first)
      await w.putBlock(mr, { start: DAY + 86_400, duration: 86_400 }, nextDay)
    })
    // Unchanged readings: the block stays as it was, though the file says it is longer.
    await store.usage.importing(T2, (w) => w.putBlock(mr, { start: DAY, duration: 3600 }, first))
    expect(await store.usage.blocks({ meterReadingId: mr, from: DAY, to: DAY + 1, limit: 10 })).toEqual([
      { meter_reading_id: mr, start: DAY, duration: 1800, published: T1, updated: T1 },
    ])
    await store.usage.importing(T3, (w) =>
      w.putBlock(mr, { start: DAY, duration: 3600 }, [...first, quarter(2, 7), quarter(3, 8)]),
    )
    const query: BlockQuery = { meterReadingId: mr, from: 0, to: 2 ** 31, limit: 10 }
    expect(await store.usage.blocks(query)).toEqual([
      { meter_reading_id: mr, start: DAY, duration: 3600, published: T1, updated: T3 },
      { meter_reading_id: mr, start: DAY + 86_400, duration: 86_400, published: T1, updated: T1 },
    ])
    const starts = async (q: Partial<BlockQuery>) =>
      (await store.usage.blocks({ ...query, ...q })).map((b) => b.start)
    expect(await starts({ from: DAY + 3600, to: DAY + 86_400 })).toEqual([]) // between the two
    expect(await starts({ from: DAY + 3599, to: DAY + 86_401 })).toEqual([DAY, DAY + 86_400])
    expect(await starts({ after: DAY })).toEqual([DAY + 86_400])
    expect(await starts({ start: DAY })).toEqual([DAY])
    expect(await starts({ limit: 1 })).toEqual([DAY])
    expect(await starts({ updatedMin: T2 })).toEqual([DAY])
    expect(await starts({ updatedMax: T2 })).toEqual([DAY + 86_400])
    expect(await starts({ publishedMin: T1, publishedMax: T1 })).toEqual([DAY, DAY + 86_400])
    expect(await starts({ publishedMin: T1 + 1 })).toEqual([])
  })

  /** An import that changes something (a new reading) and sends a notice naming `topics`. */
  let news = 20_000
  const publishNotice = (at: number, ...topics: string[]) => {
    const reading = [quarter(news++, 1)]
    return fixture.store.usage.importing(at, async (w) => {
      await w.putBlock('mr-notices', block(reading), reading)
      w.notify([notice(...topics)])
    })
  }

  it('queues a notice only when the import changed something', async () => {
    const { store } = fixture
    const same = [quarter(0, 10)]
    await store.usage.importing(T1, (w) => w.putBlock('mr-same', block(same), same))
    const again = await store.usage.importing(T2, async (w) => {
      await w.putBlock('mr-same', block(same), same)
      w.notify([notice('nothing new')])
    })
    expect(again).toMatchObject({ changedReadings: 0, notified: 0 })
    expect(await store.pendingOutbox(10)).toEqual([])
  })

  it('queues a notice with the import, absorbing an undelivered older one to the same place', async () => {
    const { store } = fixture
    expect((await publishNotice(T1, 'A')).notified).toBe(1)
    const [first] = await store.pendingOutbox(10)
    if (!first) throw new Error('the first notice is pending')
    // Its first attempt fails: the error is kept when a newer notice takes its place.
    await store.settleOutbox(first.id, {
      error: 'connection refused',
      nextAttemptAt: new Date(T2).toISOString(),
    })
    await publishNotice(T2, 'B', 'A')
    await publishNotice(T3, 'C')
    const pending = await store.pendingOutbox(10)
    const due = pending.filter((m) => m.next_attempt_at !== PARKED)
    // The newest names everything the ones it absorbed named, theirs first, each once.
    expect(due.map((m) => m.body)).toEqual(['A B C'])
    expect(pending.map((m) => [m.body, m.next_attempt_at === PARKED, m.last_error])).toEqual([
      ['A', true, 'connection refused'],
      ['A B', true, null],
      ['A B C', false, null],
    ])
    expect(pending[0]?.superseded_by).toBe(pending[1]?.id)
    expect(pending[1]?.superseded_by).toBe(pending[2]?.id)
    expect(await store.outboxAttempts(first.id)).toEqual([
      { message_id: first.id, attempt: 1, at: expect.any(String), error: 'connection refused' },
    ])
  })

  it('keeps a superseded notice parked when the delivery it was out on fails', async () => {
    const { store } = fixture
    const claimed = await store.claimOutbox(
      new Date(Date.now() + 1000).toISOString(),
      new Date(Date.now() + 60_000).toISOString(),
      10,
    )
    const out = claimed.find((m) => m.body === 'A B C')
    if (!out) throw new Error('the newest notice was due')
    await publishNotice(T3 + 1, 'D')
    await store.settleOutbox(out.id, { error: 'timeout', nextAttemptAt: new Date(T3 + 5_000).toISOString() })
    const due = (await store.pendingOutbox(10)).filter((m) => m.next_attempt_at !== PARKED)
    expect(due.map((m) => m.body)).toEqual(['A B C D'])
  })

  it('commits an import all or nothing: a failure part-way leaves no row and no message behind', async () => {
    const { store } = fixture
    const before = await everything(store, id)
    await expect(
      store.usage.importing(T3, async (w) => {
        await w.putResource({ ...meterReading(), usagePointId: 'up2', source: 'MeterReading/02' }, T3)
        await w.putResource(meterReading('<MeterReading>3</MeterReading>'), T3)
        await w.putBlock(id, block([quarter(0, 99)]), [quarter(0, 99)])
        await w.putBlock(id, { start: DAY + 5000 * 900, duration: 900 }, [quarter(5000, 1)])
        w.notify([notice('third')])
        throw new Error('the file broke off')
      }),
    ).rejects.toThrow('the file broke off')
    expect(await everything(store, id)).toEqual(before)
  })
})
