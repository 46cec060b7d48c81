import { type EspiEntry, EspiReadError, type Position } from './espi-reader.js'
import { WorkerEspiReader } from './espi-reader-worker.js'
import { meterReadingOf, placeOf } from './hrefs.js'
import { ESPI_NS } from './namespaces.js'
import {
  counted,
  type ImportContext,
  type ImportReport,
  MAX_TEXT_LENGTH,
  publishing,
} from './usage-publication.js'

// Resources a feed may carry that Custodian keeps itself rather than takes from a file.
const NOT_DATA = new Set(['Authorization', 'ApplicationInformation', 'Subscription', 'BatchList'])

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
    // Parsed in a worker thread while the entries already read are stored here.
    const reader = new WorkerEspiReader({ maxText: context.maxTextLength ?? MAX_TEXT_LENGTH })
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
          // Two readings of one start would be one stored row, the second silently replacing the first.
          const starts = new Set<number>()
          const once = inside.filter((r) => !starts.has(r.start) && starts.add(r.start))
          if (once.length < inside.length)
            publication.warnings.push({
              position: entry.position,
              message: `${inside.length - once.length} readings of IntervalBlock ${entry.self} start where an earlier one of it does: the first of each start kept, the others dropped`,
            })
          await publication.readingsOf(usagePoint, await meterReading(usagePoint, of), block.interval, once)
          return
        }
        default:
          await publication.resource(
            { usagePointId: usagePoint, kind, source: place.path, title: entry.title, content: entry.xml },
            context.at,
          )
      }
    }

    for await (const entry of reader.entries(counted(chunks, context.progress))) await take(entry)
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
