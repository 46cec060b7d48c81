import type { ReadingWindow } from '../greenbutton/data-window.js'

/** How the customer's data pages word resources, sizes, times and windows. Pure. */

const KINDS: Record<string, string> = {
  'Batch/Subscription': 'all shared data (batch)',
  'Batch/UsagePoint': 'all data of one meter (batch)',
  'Batch/Bulk': 'all shared data, with other customers’ (bulk)',
  UsagePoint: 'meters',
  MeterReading: 'meter reading descriptions',
  IntervalBlock: 'interval readings',
  ReadingType: 'reading units',
  LocalTimeParameters: 'time zone',
  ElectricPowerUsageSummary: 'usage summaries',
  UsageSummary: 'usage summaries',
  ElectricPowerQualitySummary: 'power quality summaries',
}

/** A fetched resource in the customer's words. */
export const kindLabel = (kind: string) => KINDS[kind] ?? kind

/** A size in bytes, kB or MB (powers of 1000). */
export function sizeLabel(bytes: number | null): string {
  if (bytes === null) return 'shared transfer'
  if (bytes < 1000) return `${bytes} bytes`
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`
  return `${(bytes / 1_000_000).toFixed(1)} MB`
}

/** A time as `2026-12-01 09:30 UTC`. */
export const timeLabel = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`

/** A day, `YYYY-MM-DD` (UTC), of epoch seconds. */
export const dayOf = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10)

/** Readings starting in [start, end) as the days they fall on, `2026-11-17 to 2026-11-30`. */
export function periodLabel(start: number | null, end: number | null): string {
  if (start === null || end === null) return 'no readings'
  const first = dayOf(start)
  const last = dayOf(end - 1)
  return first === last ? first : `${first} to ${last}`
}

const durationLabel = (seconds: number) =>
  seconds === 3600
    ? 'hourly'
    : seconds === 86_400
      ? 'daily'
      : seconds % 60 === 0
        ? `${seconds / 60}-minute`
        : `${seconds}-second`

/** The kinds of data a window lets through: `hourly and 15-minute readings, usage summaries`. */
export function dataLabel(window: Pick<ReadingWindow, 'functionBlocks' | 'intervalDurations'>): string {
  const parts: string[] = []
  if (window.functionBlocks.has(4))
    parts.push(
      window.intervalDurations.length === 0
        ? 'interval readings of any length'
        : `${window.intervalDurations.map(durationLabel).join(' and ')} readings`,
    )
  if (window.functionBlocks.has(15) || window.functionBlocks.has(16)) parts.push('usage summaries')
  if (window.functionBlocks.has(17)) parts.push('power quality summaries')
  return parts.length === 0 ? 'the list of your meters only' : parts.join(', ')
}
