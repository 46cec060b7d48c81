import { randomUUID } from 'node:crypto'
import { invalid } from '../errors.js'
import { feedEnd, feedStart } from '../greenbutton/atom-writer.js'
import type { ReadingWindow } from '../greenbutton/data-window.js'
import { usagePointTree } from '../greenbutton/espi-feeds.js'
import type { UsageDataStore } from '../store/usage-data-store.js'

/**
 * Green Button Download My Data: the customer's own usage for a chosen period, as the ESPI feed the third
 * parties get (written by the same feed writer) or as a CSV in the form the import reads.
 */
export type DownloadFormat = 'xml' | 'csv'

/** The longest period one download covers. */
export const MAX_DOWNLOAD_DAYS = 366
const DAY = 86_400

export interface DownloadRequest {
  format: DownloadFormat
  /** The days asked for, `YYYY-MM-DD`, both included. */
  fromDay: string
  toDay: string
  /** Readings starting in [from, to), epoch seconds (UTC days). */
  from: number
  to: number
}

/** A calendar date's start, epoch seconds (UTC), or undefined for anything but a real `YYYY-MM-DD`. */
const dayStart = (text: string): number | undefined => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined
  const ms = Date.parse(`${text}T00:00:00Z`)
  // Date.parse rolls 2026-02-30 over to March: a date that does not come back as written is not one.
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text ? undefined : ms / 1000
}

/** The download a query asks for, checked; a bad field is refused by name. Pure. */
export function downloadRequest(query: Record<string, unknown>): DownloadRequest {
  const text = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : '')
  const format = text('format') || 'xml'
  if (format !== 'xml' && format !== 'csv')
    throw invalid(`format: "${format.slice(0, 20)}" is neither xml nor csv`)
  const day = (name: string) => {
    const value = dayStart(text(name))
    if (value === undefined) throw invalid(`${name}: "${text(name).slice(0, 20)}" is not a date (YYYY-MM-DD)`)
    return value
  }
  const from = day('from')
  const to = day('to') + DAY
  if (to <= from) throw invalid(`to: ${text('to')} is before from: ${text('from')}`)
  if (to - from > MAX_DOWNLOAD_DAYS * DAY)
    throw invalid(`the period is longer than ${MAX_DOWNLOAD_DAYS} days: download it in parts`)
  return { format, fromDay: text('from'), toDay: text('to'), from, to }
}

/** Everything of the customer's data: all function blocks, every interval length, within the period. */
export const downloadWindow = (
  usagePointIds: readonly string[],
  from: number,
  to: number,
): ReadingWindow => ({
  usagePointIds: new Set(usagePointIds),
  from,
  to,
  intervalDurations: [],
  functionBlocks: new Set([4, 15, 16, 17]),
})

/**
 * The ESPI feed of the customer's usage points, placed as Download My Data files place them
 * (`RetailCustomer/{id}/UsagePoint/{id}`).
 */
export async function* myDataXml(
  store: UsageDataStore,
  base: string,
  customerId: string,
  window: ReadingWindow,
  now: number,
): AsyncGenerator<string> {
  const customer = `${base}/RetailCustomer/${encodeURIComponent(customerId)}`
  yield feedStart({
    id: `urn:uuid:${randomUUID()}`,
    title: 'Green Button Download My Data',
    updated: now,
    self: `${customer}/UsagePoint`,
  })
  const feed = { store, base, filter: {}, depth: 3 }
  for (const id of window.usagePointIds) yield* usagePointTree(feed, window, customer, id)
  yield feedEnd()
}

const READING_PAGE = 10_000
const CSV_HEADER = 'usage_point,start,duration,value,cost,quality\n'
const csvCell = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text)

/**
 * The same readings as CSV, one per line, in the columns the CSV import reads (`quality` holds every
 * quality code, space-separated).
 */
export async function* myDataCsv(store: UsageDataStore, window: ReadingWindow): AsyncGenerator<string> {
  yield CSV_HEADER
  for (const usagePoint of window.usagePointIds) {
    const meterReadings = (await store.resources([usagePoint])).filter((r) => r.kind === 'MeterReading')
    for (const meterReading of meterReadings) {
      let from = window.from
      for (;;) {
        const page = await store.readings(meterReading.id, from, window.to, READING_PAGE)
        yield page
          .map(
            (r) =>
              `${csvCell(usagePoint)},${new Date(r.start * 1000).toISOString()},${r.duration},${r.value},${r.cost ?? ''},${r.qualities.replace(/,/g, ' ')}\n`,
          )
          .join('')
        const last = page.at(-1)
        if (!last || page.length < READING_PAGE) break
        from = last.start + 1
      }
    }
  }
}
