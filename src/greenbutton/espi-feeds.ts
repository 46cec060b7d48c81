import { createHash } from 'node:crypto'
import type { GbBlockRow, GbResourceRow } from '../store/schema.js'
import type { ServedReading, TimeFilter, UsageDataStore } from '../store/usage-data-store.js'
import { entry, intervalBlockContent } from './atom-writer.js'
import { kindAllowed, type ReadingWindow } from './data-window.js'

/**
 * The entries of the ESPI resources, generated one at a time from the store so that a feed of any size is
 * streamed: readings are read a page of blocks at a time and never held whole.
 */
export interface FeedContext {
  store: UsageDataStore
  /** `https://host/espi/1_1/resource` */
  base: string
  filter: TimeFilter
  /** Levels of the tree below the requested resource to include: 1 = the resources asked for only. */
  depth: number
  /** Told of the readings of each block written, [start, end) in epoch seconds (the customer's access history). */
  served?: (start: number, end: number) => void
}

export const SUMMARY_KINDS = ['ElectricPowerUsageSummary', 'UsageSummary', 'ElectricPowerQualitySummary']
/**
 * Usage summaries, by either name: ESPI 1.1's ElectricPowerUsageSummary, whose name their collection has
 * here (as in the Green Button samples and the CMD test suite), and the later UsageSummary, an alias route.
 */
export const USAGE_SUMMARY_KINDS = ['ElectricPowerUsageSummary', 'UsageSummary']
// Blocks per page: a year of daily blocks of 15-minute readings is two pages.
const BLOCK_PAGE = 200
const READING_PAGE = 10_000

const passes = (filter: TimeFilter, row: { published: number; updated: number }) =>
  (filter.publishedMin === undefined || row.published >= filter.publishedMin) &&
  (filter.publishedMax === undefined || row.published <= filter.publishedMax) &&
  (filter.updatedMin === undefined || row.updated >= filter.updatedMin) &&
  (filter.updatedMax === undefined || row.updated <= filter.updatedMax)

/** The places of one usage point's resources in a subscription. */
export class UsagePointUris {
  constructor(
    readonly base: string,
    /** `.../Subscription/{id}` */
    readonly subscription: string,
    readonly usagePoint: string,
  ) {}
  get self() {
    return `${this.subscription}/UsagePoint/${this.usagePoint}`
  }
  of(kind: string, id?: string) {
    if (kind === 'UsagePoint') return id === undefined ? `${this.subscription}/UsagePoint` : this.self
    if (kind === 'ReadingType' || kind === 'LocalTimeParameters')
      return id === undefined ? `${this.base}/${kind}` : `${this.base}/${kind}/${id}`
    const collection = USAGE_SUMMARY_KINDS.includes(kind) ? 'ElectricPowerUsageSummary' : kind
    return id === undefined ? `${this.self}/${collection}` : `${this.self}/${collection}/${id}`
  }
}

export function resourceEntry(row: GbResourceRow, uris: UsagePointUris, standalone = false): string {
  const related =
    row.kind === 'UsagePoint'
      ? [
          uris.of('MeterReading'),
          uris.of('ElectricPowerUsageSummary'),
          ...(row.link_id ? [uris.of('LocalTimeParameters', row.link_id)] : []),
        ]
      : row.kind === 'MeterReading'
        ? [
            `${uris.of('MeterReading', row.id)}/IntervalBlock`,
            ...(row.link_id ? [uris.of('ReadingType', row.link_id)] : []),
          ]
        : []
  return entry(
    {
      id: `urn:uuid:${row.id}`,
      self: uris.of(row.kind, row.id),
      up: uris.of(row.kind),
      related,
      title: row.title,
      published: row.published,
      updated: row.updated,
      content: row.content,
    },
    standalone,
  )
}

/** Walks a meter reading's readings in start order, a page at a time. */
class ReadingCursor {
  #page: ServedReading[] = []
  #at = 0
  #done = false

  constructor(
    readonly store: UsageDataStore,
    readonly meterReadingId: string,
    private from: number,
    readonly to: number,
  ) {}

  /** The readings starting in [start, end), skipping any before `start`. */
  async until(start: number, end: number): Promise<ServedReading[]> {
    const out: ServedReading[] = []
    for (;;) {
      if (this.#at === this.#page.length) {
        if (this.#done) return out
        this.#page = await this.store.readings(this.meterReadingId, this.from, this.to, READING_PAGE)
        this.#at = 0
        this.#done = this.#page.length < READING_PAGE
        const last = this.#page.at(-1)
        if (!last) return out
        this.from = last.start + 1
      }
      const reading = this.#page[this.#at] as ServedReading
      if (reading.start >= end) return out
      if (reading.start >= start) out.push(reading)
      this.#at++
    }
  }
}

/** A stable UUID for something that has no UUID of its own (a block, a client, an Authorization). */
export const derivedUuid = (text: string) => {
  const hex = createHash('sha256').update(text).digest('hex')
  // A name-based UUID version 8 (RFC 9562 B.2): the version nibble 8, the variant bits 10.
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** The IntervalBlock entries of a meter reading within the window (one block when `start` is given). */
export async function* blockEntries(
  context: FeedContext,
  window: ReadingWindow,
  meterReading: GbResourceRow,
  uris: UsagePointUris,
  start?: number,
  standalone = false,
): AsyncGenerator<string> {
  if (!kindAllowed(window, 'IntervalBlock')) return
  const self = `${uris.of('MeterReading', meterReading.id)}/IntervalBlock`
  let after: number | undefined
  for (;;) {
    const blocks: GbBlockRow[] = await context.store.blocks({
      ...context.filter,
      meterReadingId: meterReading.id,
      from: window.from,
      to: window.to,
      limit: BLOCK_PAGE,
      ...(after === undefined ? {} : { after }),
      ...(start === undefined ? {} : { start }),
    })
    const first = blocks[0]
    const last = blocks.at(-1)
    if (!first || !last) return
    // Readings come in pages too, so that memory stays bounded however many readings a block holds.
    const readings = new ReadingCursor(
      context.store,
      meterReading.id,
      Math.max(first.start, window.from),
      Math.min(last.start + last.duration, window.to),
    )
    for (const block of blocks) {
      const inBlock = await readings.until(block.start, block.start + block.duration)
      const lastReading = inBlock.at(-1)
      if (!lastReading) continue
      context.served?.((inBlock[0] as ServedReading).start, lastReading.start + lastReading.duration)
      yield entry(
        {
          id: `urn:uuid:${derivedUuid(`${meterReading.id}/${block.start}`)}`,
          self: `${self}/${block.start}`,
          up: self,
          title: '',
          published: block.published,
          updated: block.updated,
          content: intervalBlockContent(
            block,
            inBlock.map((r) => ({
              start: r.start,
              duration: r.duration,
              value: r.value,
              cost: r.cost,
              qualities: r.qualities === '' ? [] : r.qualities.split(',').map(Number),
            })),
          ),
        },
        standalone,
      )
    }
    if (blocks.length < BLOCK_PAGE) return
    after = last.start
  }
}

/** What the window shows of one usage point's resources (readings excepted). */
export function visibleResources(window: ReadingWindow, rows: readonly GbResourceRow[]): GbResourceRow[] {
  return rows.filter(
    (row) =>
      window.usagePointIds.has(row.usage_point_id) &&
      (row.kind === 'MeterReading'
        ? kindAllowed(window, row.kind, row.interval_length)
        : kindAllowed(window, row.kind)),
  )
}

/**
 * Everything of one usage point the window shows, as a Batch carries it: the usage point, then its local
 * time, meter readings (each with its reading type and blocks) and summaries, down to `context.depth`.
 */
export async function* usagePointTree(
  context: FeedContext,
  window: ReadingWindow,
  subscription: string,
  usagePointId: string,
): AsyncGenerator<string> {
  const rows = visibleResources(window, await context.store.resources([usagePointId]))
  const point = rows.find((r) => r.kind === 'UsagePoint')
  if (!point) return
  const uris = new UsagePointUris(context.base, subscription, point.id)
  const byId = new Map(rows.map((r) => [r.id, r]))
  const show = (row: GbResourceRow | undefined) =>
    row && passes(context.filter, row) ? resourceEntry(row, uris) : ''
  // Meter readings may share a reading type: it is shown after the first of them only, as one entry.
  const shownTypes = new Set<string>()
  const showType = (row: GbResourceRow | undefined) => {
    if (!row || shownTypes.has(row.id)) return ''
    shownTypes.add(row.id)
    return show(row)
  }
  yield show(point)
  if (context.depth < 2) return
  yield show(point.link_id ? byId.get(point.link_id) : undefined)
  for (const meterReading of rows.filter((r) => r.kind === 'MeterReading')) {
    yield show(meterReading)
    if (context.depth < 3) continue
    yield showType(meterReading.link_id ? byId.get(meterReading.link_id) : undefined)
    yield* blockEntries(context, window, meterReading, uris)
  }
  for (const summary of rows.filter((r) => SUMMARY_KINDS.includes(r.kind))) yield show(summary)
}

/** The entries of resources of one kind under a usage point (a feed such as `.../MeterReading`). */
export function resourceFeed(
  context: FeedContext,
  rows: readonly GbResourceRow[],
  uris: UsagePointUris,
): string[] {
  return rows.filter((row) => passes(context.filter, row)).map((row) => resourceEntry(row, uris))
}
