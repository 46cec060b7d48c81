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
