import { Readable } from 'node:stream'
import { parse as parseCsv } from 'csv-parse'
import type { OutboxMessage } from '../store/outbox.js'
import type { ReadingInput } from '../store/readings-writer.js'
import type { ServiceKind } from '../store/schema.js'
import type { UsageWriter } from '../store/staged-import.js'
import type { UsageDataStore } from '../store/usage-data-store.js'
import {
  type EspiEntry,
  EspiReadError,
  EspiReader,
  espiEntries,
  type Position,
  type Warning,
} from './espi-reader.js'
import { meterReadingOf, placeOf } from './hrefs.js'
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
  /** Called with the bytes read so far. */
  progress?: (bytes: number) => void
  /** The longest CSV line and XML element text, in characters (the setting maxTextLength). */
  maxTextLength?: number
}

/** The default of maxTextLength (config.ts). */
const MAX_TEXT_LENGTH = 10_000

export interface ImportReport {
  entries: number
  readings: number
  /** Readings that were new or revised (the rest were already stored as they are). */
  changedReadings: number
  /** Custodian usage points the file held data for. */
  usagePoints: string[]
  warnings: Warning[]
  /** Third-party notifications queued. */
  notified: number
}

const SERVICE_CATEGORY: Record<ServiceKind, number> = { electricity: 0, gas: 1, water: 2 }
// Resources a feed may carry that Custodian keeps itself rather than takes from a file.
const NOT_DATA = new Set(['Authorization', 'ApplicationInformation', 'Subscription', 'BatchList'])

/**
 * The part of an import common to XML and CSV: resolving the file's usage points, making sure each has a
 * UsagePoint resource, and the notifications at the end. Everything goes through the import's writer.
 */
class Publication {
  readonly usagePoints = new Map<string, string>()
  readonly warnings: Warning[] = []
  readings = 0

  constructor(
    readonly context: ImportContext,
    readonly writer: UsageWriter,
  ) {}

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
    return (await this.writer.putResource(...args)).id
  }

  async readingsOf(
    meterReadingId: string,
    block: { start: number; duration: number },
    readings: readonly ReadingInput[],
  ): Promise<void> {
    await this.writer.putBlock(meterReadingId, block, readings)
    this.readings += readings.length
  }
}

/** One import, all or nothing: `publish` files the document's entries and answers how many it read. */
async function publishing(
  context: ImportContext,
  publish: (publication: Publication, writer: UsageWriter) => Promise<number>,
): Promise<ImportReport> {
  const { result, changedReadings, notified } = await context.store.importing(context.at, async (writer) => {
    const publication = new Publication(context, writer)
    const entries = await publish(publication, writer)
    writer.notify(context.notices(publication.usagePoints))
    return { publication, entries }
  })
  const { publication, entries } = result
  return {
    entries,
    readings: publication.readings,
    changedReadings,
    usagePoints: [...publication.usagePoints.keys()],
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
async function* counted(chunks: AsyncIterable<string | Buffer>, progress?: (bytes: number) => void) {
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

/** A shared resource (ReadingType, LocalTimeParameters) waits until the file says who links to it. */
interface Shared {
  entry: EspiEntry
  path: string
}

/**
 * Imports a Green Button (ESPI Atom) document, all or nothing, reading it as a stream. Refusals carry
 * the position and reason; a refused file leaves nothing behind.
 */
export function importGreenButtonXml(
  context: ImportContext,
  chunks: AsyncIterable<string | Buffer>,
): Promise<ImportReport> {
  return publishing(context, async (publication, writer) => {
    const reader = new EspiReader({ maxText: context.maxTextLength ?? MAX_TEXT_LENGTH })
    const shared = new Map<string, Shared>()
    // Links resolved at the end: meter reading id → ReadingType path; usage point → LocalTimeParameters.
    const readingTypeOf = new Map<string, { usagePoint: string; path: string; position: Position }>()
    const timeOf = new Map<string, string>()
    const meterReadings = new Map<string, string>()
    let count = 0

    const meterReading = async (usagePoint: string, path: string, entry?: EspiEntry) => {
      const key = `${usagePoint} ${path}`
      const known = meterReadings.get(key)
      if (known && !entry) return known
      const id = await publication.resource(
        {
          usagePointId: usagePoint,
          kind: 'MeterReading',
          source: path,
          title: entry?.title ?? '',
          content: entry?.xml ?? `<MeterReading xmlns="${ESPI_NS}"/>`,
        },
        context.at,
        !entry,
      )
      meterReadings.set(key, id)
      return id
    }

    const take = async (entry: EspiEntry) => {
      count++
      const kind = entry.content.kind
      if (NOT_DATA.has(kind)) {
        publication.warnings.push({
          position: entry.position,
          message: `${kind} skipped: Custodian keeps its own ${kind} resources, it does not import them`,
        })
        return
      }
      const place = entry.self ? placeOf(entry.self) : undefined
      if (!place) {
        throw new EspiReadError(
          entry.position,
          `${kind} entry has no self link naming the resource, so where it belongs is unknown`,
        )
      }
      if (place.usagePoint === undefined) {
        if (kind !== 'ReadingType' && kind !== 'LocalTimeParameters')
          throw new EspiReadError(entry.position, `${kind} ${entry.self} does not name its usage point`)
        shared.set(place.path, { entry, path: place.path })
        return
      }
      const usagePoint = await publication.usagePoint(place.usagePoint, entry.position, place.customer)
      const related = entry.related.map(placeOf)
      switch (kind) {
        case 'UsagePoint': {
          const id = await publication.resource(
            { usagePointId: usagePoint, kind, source: '', title: entry.title, content: entry.xml },
            context.at,
          )
          publication.usagePoints.set(usagePoint, id)
          const time = related.find((r) => r?.path.startsWith('LocalTimeParameters/'))
          if (time) timeOf.set(usagePoint, time.path)
          return
        }
        case 'MeterReading': {
          const id = await meterReading(usagePoint, place.path, entry)
          const content = entry.content as { readingTypeXml?: string }
          if (content.readingTypeXml) {
            // The nested ReadingType (a deviation the reader warned about) is this meter reading's own.
            const path = `ReadingType/of-${place.path}`
            shared.set(path, {
              entry: { ...entry, title: 'Reading type', xml: content.readingTypeXml },
              path,
            })
            readingTypeOf.set(id, { usagePoint, path, position: entry.position })
          } else {
            const type = related.find((r) => r?.path.startsWith('ReadingType/'))
            if (type) readingTypeOf.set(id, { usagePoint, path: type.path, position: entry.position })
          }
          return
        }
        case 'IntervalBlock': {
          const of = meterReadingOf(place.path)
          if (!of)
            throw new EspiReadError(entry.position, `IntervalBlock ${entry.self} names no MeterReading`)
          const block = entry.content as Extract<EspiEntry['content'], { kind: 'IntervalBlock' }>
          const { start, duration } = block.interval
          // A reading outside its block's interval would be stored but never served: it is dropped, said.
          const inside = block.readings.filter((r) => r.start >= start && r.start < start + duration)
          if (inside.length < block.readings.length)
            publication.warnings.push({
              position: entry.position,
              message: `${block.readings.length - inside.length} of the ${block.readings.length} readings of IntervalBlock ${entry.self} start outside its interval [${start}, ${start + duration}): dropped`,
            })
          await publication.readingsOf(await meterReading(usagePoint, of), block.interval, inside)
          return
        }
        default:
          await publication.resource(
            { usagePointId: usagePoint, kind, source: place.path, title: entry.title, content: entry.xml },
            context.at,
          )
      }
    }

    for await (const entry of espiEntries(counted(chunks, context.progress), reader)) await take(entry)
    if (count === 0) throw new EspiReadError(reader.position, 'no readings: the document has no entries')
    publication.warnings.unshift(...reader.warnings)

    // Shared resources belong to each usage point that links to them.
    const sharedFor = async (usagePoint: string, path: string, kind: string) => {
      const found = shared.get(path)
      if (!found) return undefined
      const id = await publication.resource(
        { usagePointId: usagePoint, kind, source: path, title: found.entry.title, content: found.entry.xml },
        context.at,
      )
      return { id, found }
    }
    const used = new Set<string>()
    for (const [meterReadingId, { usagePoint, path, position }] of readingTypeOf) {
      const type = await sharedFor(usagePoint, path, 'ReadingType')
      if (!type) {
        publication.warnings.push({
          position,
          message: `a MeterReading links to ${path}, which the file does not hold`,
        })
        continue
      }
      used.add(path)
      const length = /<intervalLength>(\d+)<\/intervalLength>/.exec(type.found.entry.xml)?.[1]
      await writer.linkResource(
        meterReadingId,
        type.id,
        length === undefined ? null : Number(length),
        context.at,
      )
    }
    for (const [usagePoint, path] of timeOf) {
      const time = await sharedFor(usagePoint, path, 'LocalTimeParameters')
      if (!time) continue
      used.add(path)
      const resourceId = publication.usagePoints.get(usagePoint)
      if (resourceId) await writer.linkResource(resourceId, time.id, null, context.at)
    }
    for (const { entry, path } of shared.values()) {
      if (!used.has(path))
        publication.warnings.push({
          position: entry.position,
          message: `${entry.content.kind} ${path} is linked from no usage point of the file: skipped`,
        })
    }
    return count
  })
}

/** Reading types Custodian writes for CSV data: electricity delivered, in Wh (the common Green Button unit). */
const csvReadingType = (intervalLength: number) =>
  `<ReadingType xmlns="${ESPI_NS}"><accumulationBehaviour>4</accumulationBehaviour><commodity>1</commodity><dataQualifier>12</dataQualifier><flowDirection>1</flowDirection><intervalLength>${intervalLength}</intervalLength><kind>12</kind><phase>769</phase><powerOfTenMultiplier>0</powerOfTenMultiplier><timeAttribute>0</timeAttribute><uom>72</uom></ReadingType>`

const DAY = 86_400
const CSV_COLUMNS = ['usage_point', 'start', 'duration', 'value'] as const

/**
 * Imports a CSV of interval readings, one per row: `usage_point,start,duration,value[,cost][,quality]`, with
 * `start` in ISO 8601 or epoch seconds. Readings are filed by usage point and interval length into daily
 * IntervalBlocks (UTC). All or nothing; refusals name the line and column.
 */
export function importIntervalCsv(
  context: ImportContext,
  chunks: AsyncIterable<string | Buffer>,
): Promise<ImportReport> {
  return publishing(context, async (publication) => {
    const meterReadings = new Map<string, string>()
    const pending = new Map<string, { meterReadingId: string; start: number; readings: ReadingInput[] }>()
    let rows = 0

    const flush = async () => {
      for (const block of pending.values())
        await publication.readingsOf(
          block.meterReadingId,
          { start: block.start, duration: DAY },
          block.readings,
        )
      pending.clear()
    }
    const meterReading = async (usagePoint: string, duration: number) => {
      const key = `${usagePoint} ${duration}`
      const known = meterReadings.get(key)
      if (known) return known
      const type = await publication.resource(
        {
          usagePointId: usagePoint,
          kind: 'ReadingType',
          source: `ReadingType/csv-${duration}`,
          title: `${duration}-second interval readings`,
          content: csvReadingType(duration),
        },
        context.at,
      )
      const id = await publication.resource(
        {
          usagePointId: usagePoint,
          kind: 'MeterReading',
          source: `MeterReading/csv-${duration}`,
          title: `${duration}-second interval readings`,
          content: `<MeterReading xmlns="${ESPI_NS}"/>`,
          linkId: type,
          intervalLength: duration,
        },
        context.at,
      )
      meterReadings.set(key, id)
      return id
    }

    const maxLine = context.maxTextLength ?? MAX_TEXT_LENGTH
    const parser = Readable.from(counted(chunks, context.progress)).pipe(
      parseCsv({
        bom: true,
        columns: true,
        skip_empty_lines: true,
        trim: true,
        info: true,
        // A line is refused as soon as it is longer than this, before more of it is held.
        max_record_size: maxLine,
      }),
    )
    try {
      for await (const record of parser as AsyncIterable<{
        record: Record<string, string>
        info: { lines: number }
      }>) {
        const { record: row, info } = record
        const fail = (column: string, reason: string): never => {
          throw new EspiReadError({ line: info.lines, column: 0 }, `${column}: ${reason}`)
        }
        for (const column of CSV_COLUMNS) if (!row[column]) fail(column, 'is missing')
        const whole = (column: string, text: string) =>
          /^-?\d{1,15}$/.test(text) ? Number(text) : fail(column, `"${text}" is not a whole number`)
        const startText = row.start as string
        const start = /^\d+$/.test(startText)
          ? Number(startText)
          : Number.isNaN(Date.parse(startText))
            ? fail('start', `"${startText}" is neither a date-time nor epoch seconds`)
            : Math.floor(Date.parse(startText) / 1000)
        const duration = whole('duration', row.duration as string)
        if (duration <= 0) fail('duration', 'must be positive')
        const usagePoint = await publication.usagePoint(row.usage_point as string, {
          line: info.lines,
          column: 0,
        })
        const meterReadingId = await meterReading(usagePoint, duration)
        const day = start - (((start % DAY) + DAY) % DAY)
        const key = `${meterReadingId} ${day}`
        let block = pending.get(key)
        if (!block) {
          block = { meterReadingId, start: day, readings: [] }
          pending.set(key, block)
        }
        block.readings.push({
          start,
          duration,
          value: whole('value', row.value as string),
          cost: row.cost ? whole('cost', row.cost) : null,
          qualities: row.quality ? [whole('quality', row.quality)] : [],
        })
        if (++rows % 2_000 === 0) await flush()
      }
    } catch (error) {
      if (error instanceof EspiReadError) throw error
      const { lines, code } = error as { lines?: number; code?: string }
      throw new EspiReadError(
        { line: lines ?? 0, column: 0 },
        code === 'CSV_MAX_RECORD_SIZE'
          ? `line longer than ${maxLine} characters (the limit maxTextLength, --max-text-length)`
          : (error as Error).message,
      )
    }
    if (rows === 0) {
      // A file of no readings is a mistake (the wrong file, or its rows in the header line), not a publication.
      throw new EspiReadError(
        { line: 1, column: 0 },
        `no readings: no line after the header is a reading (${CSV_COLUMNS.join(',')}[,cost][,quality])`,
      )
    }
    await flush()
    return rows
  })
}
