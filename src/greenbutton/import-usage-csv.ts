import { Readable } from 'node:stream'
import { parse as parseCsv } from 'csv-parse'
import type { ReadingInput } from '../store/readings-writer.js'
import { EspiReadError } from './espi-reader.js'
import { ESPI_NS } from './namespaces.js'
import {
  counted,
  type ImportContext,
  type ImportReport,
  MAX_TEXT_LENGTH,
  publishing,
} from './usage-publication.js'

// CSV readings get the operator's reading type (greenButtonReadingType, by default electricity delivered in
// Wh, the common Green Button unit) with their interval length.
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
    const pending = new Map<
      string,
      { usagePoint: string; meterReadingId: string; start: number; readings: ReadingInput[] }
    >()
    let rows = 0
    // A start repeated for one meter reading would be one stored row, the later row silently replacing the
    // earlier (and PostgreSQL refuses both in one statement): the first is kept, the rest dropped, said.
    const seen = new Map<string, Set<number>>()
    let repeated: { count: number; line: number } | undefined

    const flush = async () => {
      for (const block of pending.values())
        await publication.readingsOf(
          block.usagePoint,
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
          content: context.defaults.readingType(duration),
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
        const reading = {
          start,
          duration,
          value: whole('value', row.value as string),
          cost: row.cost ? whole('cost', row.cost) : null,
          qualities: row.quality ? [whole('quality', row.quality)] : [],
        }
        const starts = seen.get(meterReadingId) ?? new Set<number>()
        seen.set(meterReadingId, starts)
        if (starts.has(start)) {
          repeated = { count: (repeated?.count ?? 0) + 1, line: repeated?.line ?? info.lines }
          continue
        }
        starts.add(start)
        const day = start - (((start % DAY) + DAY) % DAY)
        const key = `${meterReadingId} ${day}`
        let block = pending.get(key)
        if (!block) {
          block = { usagePoint, meterReadingId, start: day, readings: [] }
          pending.set(key, block)
        }
        block.readings.push(reading)
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
    if (repeated)
      publication.warnings.push({
        position: { line: repeated.line, column: 0 },
        message: `${repeated.count} rows repeat the usage point, duration and start of an earlier row (the first of them here): the earlier row of each kept, the others dropped`,
      })
    await flush()
    return rows
  })
}
