import type { OutboxMessage } from '../store/outbox.js'
import type { ReadingInput } from '../store/readings-writer.js'
import type { ServiceKind } from '../store/schema.js'
import type { UsageWriter } from '../store/staged-import.js'
import type { UsageDataStore } from '../store/usage-data-store.js'
import { SUMMARY_KINDS } from './espi-feeds.js'
import { EspiReadError, type Position, type Warning } from './espi-reader.js'
import type { FeedDefaults } from './feed-defaults.js'
import { ESPI_NS } from './namespaces.js'

/** How a file's usage points become Custodian's. */
export interface UsagePointMapping {
  /**
   * The file's usage point → Custodian usage point, by its full path (`RetailCustomer/N/UsagePoint/M`, for a
   * file of several customers) or its id (the last part of its href, or the CSV's column).
   */
  map?: Readonly<Record<string, string>>
  /** Every usage point of the file is this one (a file for one meter). */
  usagePoint?: string
}

export interface ImportContext {
  store: UsageDataStore
  /** The service kind of a Custodian usage point, undefined if there is none. */
  usagePointKind: (id: string) => ServiceKind | undefined
  mapping: UsagePointMapping
  /** The publication time (epoch ms): every row the import adds or changes gets it. */
  at: number
  /** The notifications a publication for these usage points sends (UsagePoint resource ids by usage point). */
  notices: (published: ReadonlyMap<string, string>) => OutboxMessage[]
  /** What a usage point or meter reading is given when no file said (the operator's settings). */
  defaults: FeedDefaults
  /** Called with the bytes read so far. */
  progress?: (bytes: number) => void
  /** The longest CSV line and XML element text, in characters (the setting maxTextLength). */
  maxTextLength?: number
}

/** The default of maxTextLength (config.ts). */
export const MAX_TEXT_LENGTH = 10_000

/** What an import stored for one Custodian usage point. */
export interface UsagePointReport {
  readings: number
  /** Readings that were new or revised (the rest were already stored as they are). */
  changedReadings: number
  intervalBlocks: number
  meterReadings: number
  readingTypes: number
  summaries: number
  /** What it was given from the operator's defaults, its files holding none (greenButtonTimeZone, …). */
  defaults: string[]
}

export interface ImportReport {
  entries: number
  readings: number
  /** Readings that were new or revised (the rest were already stored as they are). */
  changedReadings: number
  /** Custodian usage points the file held data for. */
  usagePoints: string[]
  /** What was stored, by Custodian usage point. */
  stored: Record<string, UsagePointReport>
  /** What was skipped or dropped, and deviations read past. */
  warnings: Warning[]
  /** Third-party notifications queued. */
  notified: number
}

const SERVICE_CATEGORY: Record<ServiceKind, number> = { electricity: 0, gas: 1, water: 2 }

/** The resources and blocks an import filed for one usage point, counted once each. */
class Tally {
  readings = 0
  readonly blocks = new Set<string>()
  readonly resources = new Map<string, Set<string>>()
  readonly defaults: string[] = []

  count(kind: string) {
    return this.resources.get(kind)?.size ?? 0
  }
}

/**
 * The part of an import common to XML and CSV: resolving the file's usage points, making sure each has a
 * UsagePoint resource, counting what it files, the defaults at the end, and the notifications. Everything
 * goes through the import's writer.
 */
export class Publication {
  readonly usagePoints = new Map<string, string>()
  readonly warnings: Warning[] = []
  readings = 0
  readonly #tallies = new Map<string, Tally>()
  /** Meter readings filed (resource id), with their usage point and their readings' interval length. */
  readonly #meterReadings = new Map<string, { usagePoint: string; intervalLength?: number }>()

  constructor(
    readonly context: ImportContext,
    readonly writer: UsageWriter,
  ) {}

  #tally(usagePoint: string): Tally {
    let tally = this.#tallies.get(usagePoint)
    if (!tally) {
      tally = new Tally()
      this.#tallies.set(usagePoint, tally)
    }
    return tally
  }

  /** The file's usage point (by its full path) each Custodian usage point of the file was given. */
  readonly #source = new Map<string, string>()

  /**
   * The Custodian usage point of the file's `fileId` (of `customer`, when the file names one), mapped by its
   * full path (`RetailCustomer/N/UsagePoint/M`), then by its id; refused at `position` when there is none, or
   * when two customers' usage points would be stored as one (their readings would mix).
   */
  async usagePoint(fileId: string, position: Position, customer?: string): Promise<string> {
    const { mapping, usagePointKind } = this.context
    const full = customer === undefined ? undefined : `RetailCustomer/${customer}/UsagePoint/${fileId}`
    const id = (full && mapping.map?.[full]) ?? mapping.map?.[fileId] ?? mapping.usagePoint ?? fileId
    if (full) {
      const first = this.#source.get(id)
      if (first === undefined) this.#source.set(id, full)
      else if (first.split('/')[1] !== customer)
        throw new EspiReadError(
          position,
          `${first} and ${full} would both be stored as usage point "${id}": map each by its full path in a mapping file ({"${full}": "…"})`,
        )
    }
    const kind = usagePointKind(id)
    if (!kind) {
      throw new EspiReadError(
        position,
        id === fileId
          ? `usage point "${fileId}" is not a Custodian usage point: map it to one (--usage-point, or a mapping file)`
          : `usage point "${fileId}" is mapped to "${id}", which is not a Custodian usage point`,
      )
    }
    if (!this.usagePoints.has(id)) {
      const content = `<UsagePoint xmlns="${ESPI_NS}"><ServiceCategory><kind>${SERVICE_CATEGORY[kind]}</kind></ServiceCategory></UsagePoint>`
      const put = await this.writer.putResource(
        { usagePointId: id, kind: 'UsagePoint', source: '', title: '', content },
        this.context.at,
        true,
      )
      this.usagePoints.set(id, put.id)
    }
    return id
  }

  async resource(...args: Parameters<UsageWriter['putResource']>): Promise<string> {
    const [input] = args
    const { id } = await this.writer.putResource(...args)
    const tally = this.#tally(input.usagePointId)
    const kind = SUMMARY_KINDS.includes(input.kind) ? 'summary' : input.kind
    const ids = tally.resources.get(kind) ?? new Set()
    tally.resources.set(kind, ids.add(id))
    if (input.kind === 'MeterReading' && !this.#meterReadings.has(id))
      this.#meterReadings.set(id, { usagePoint: input.usagePointId })
    return id
  }

  /** Files a block of `meterReadingId` (a meter reading of `usagePoint`). */
  async readingsOf(
    usagePoint: string,
    meterReadingId: string,
    block: { start: number; duration: number },
    readings: readonly ReadingInput[],
  ): Promise<void> {
    await this.writer.putBlock(meterReadingId, block, readings)
    this.readings += readings.length
    const tally = this.#tally(usagePoint)
    tally.readings += readings.length
    tally.blocks.add(`${meterReadingId} ${block.start}`)
    const meterReading = this.#meterReadings.get(meterReadingId)
    if (meterReading && meterReading.intervalLength === undefined && readings[0])
      meterReading.intervalLength = readings[0].duration
  }

  /**
   * Gives each usage point with no LocalTimeParameters, and each meter reading with no ReadingType, the
   * operator's default (issue 19, item 9), so that every feed served has both. One that has its own, from
   * this file or an earlier one, keeps it.
   */
  async fillIn(): Promise<void> {
    const { at, defaults } = this.context
    for (const [usagePoint, resourceId] of this.usagePoints) {
      if ((await this.writer.resourceOf(resourceId))?.link_id) continue
      const time = await this.resource(
        {
          usagePointId: usagePoint,
          kind: 'LocalTimeParameters',
          source: 'LocalTimeParameters/default',
          title: `Local time (${defaults.timeZone})`,
          content: defaults.localTime(at),
        },
        at,
      )
      await this.writer.linkResource(resourceId, time, null, at)
      this.#tally(usagePoint).defaults.push(`LocalTimeParameters of time zone ${defaults.timeZone}`)
    }
    for (const [meterReadingId, { usagePoint, intervalLength }] of this.#meterReadings) {
      if ((await this.writer.resourceOf(meterReadingId))?.link_id) continue
      const type = await this.resource(
        {
          usagePointId: usagePoint,
          kind: 'ReadingType',
          source: `ReadingType/default-${intervalLength ?? 'any'}`,
          title: 'Reading type',
          content: defaults.readingType(intervalLength),
        },
        at,
      )
      await this.writer.linkResource(meterReadingId, type, intervalLength ?? null, at)
      this.#tally(usagePoint).defaults.push(`ReadingType of meter reading ${meterReadingId}`)
    }
  }

  /** What was stored by usage point, with the readings new or revised by meter reading. */
  report(changedByMeterReading: ReadonlyMap<string, number>): Record<string, UsagePointReport> {
    const out: Record<string, UsagePointReport> = {}
    for (const usagePoint of this.usagePoints.keys()) {
      const tally = this.#tally(usagePoint)
      let changedReadings = 0
      for (const [id, { usagePoint: of }] of this.#meterReadings)
        if (of === usagePoint) changedReadings += changedByMeterReading.get(id) ?? 0
      out[usagePoint] = {
        readings: tally.readings,
        changedReadings,
        intervalBlocks: tally.blocks.size,
        meterReadings: tally.count('MeterReading'),
        readingTypes: tally.count('ReadingType'),
        summaries: tally.count('summary'),
        defaults: tally.defaults,
      }
    }
    return out
  }
}

/** One import, all or nothing: `publish` files the document's entries and answers how many it read. */
export async function publishing(
  context: ImportContext,
  publish: (publication: Publication, writer: UsageWriter) => Promise<number>,
): Promise<ImportReport> {
  const { result, changedReadings, changedByMeterReading, notified } = await context.store.importing(
    context.at,
    async (writer) => {
      const publication = new Publication(context, writer)
      const entries = await publish(publication, writer)
      await publication.fillIn()
      writer.notify(context.notices(publication.usagePoints))
      return { publication, entries }
    },
  )
  const { publication, entries } = result
  return {
    entries,
    readings: publication.readings,
    changedReadings,
    usagePoints: [...publication.usagePoints.keys()],
    stored: publication.report(changedByMeterReading),
    warnings: publication.warnings,
    notified,
  }
}

/** The most of a file parsed before other requests get a turn: a few milliseconds of work. */
const SLICE_BYTES = 32 * 1024

/**
 * Passes chunks through in slices of at most SLICE_BYTES, telling `progress` how many bytes went by, and lets
 * the event loop turn between slices: a request body already buffered (a stream hands over all it holds at
 * once, megabytes) would otherwise be parsed whole in one go, keeping every other request waiting.
 */
export async function* counted(chunks: AsyncIterable<string | Buffer>, progress?: (bytes: number) => void) {
  let bytes = 0
  for await (const chunk of chunks) {
    // Bytes are decoded as a stream, so cutting a character in two is safe; a string is passed whole.
    const step = typeof chunk === 'string' ? Math.max(chunk.length, 1) : SLICE_BYTES
    for (let at = 0; at < chunk.length; at += step) {
      const slice = chunk.slice(at, at + step)
      yield slice
      bytes += slice.length
      progress?.(bytes)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
}
