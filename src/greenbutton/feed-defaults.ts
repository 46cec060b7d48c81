import { invalid } from '../errors.js'
import { ESPI_NS } from './namespaces.js'

/**
 * What a usage point is given when its files never said (issue 19, item 9): a utility's back office may send
 * only IntervalBlocks (or a CSV), yet ESPI wants every UsagePoint with its LocalTimeParameters and every
 * MeterReading with its ReadingType (CMD rules FB_01 D007, FB_04 D024/D054). The operator configures both:
 * a time zone (greenButtonTimeZone) and the fields of a reading type (greenButtonReadingType).
 */
export interface FeedDefaults {
  timeZone: string
  /** The LocalTimeParameters content of the time zone's rules in the year of `at` (epoch ms). */
  localTime(at: number): string
  /** The ReadingType content, with the readings' interval length when known. */
  readingType(intervalLength?: number): string
}

// The integer fields of an ESPI ReadingType, in the schema's order; intervalLength comes from the readings.
const READING_TYPE_FIELDS = [
  'accumulationBehaviour',
  'commodity',
  'consumptionTier',
  'currency',
  'dataQualifier',
  'defaultQuality',
  'flowDirection',
  'intervalLength',
  'kind',
  'phase',
  'powerOfTenMultiplier',
  'timeAttribute',
  'tou',
  'uom',
  'cpp',
  'measuringPeriod',
]

/** Reads `field=integer,…` (greenButtonReadingType), refusing an unknown field or a value by name. */
export function readingTypeFields(text: string): Map<string, number> {
  const fields = new Map<string, number>()
  for (const pair of text.split(',')) {
    const [name = '', value = ''] = pair.trim().split('=')
    if (!READING_TYPE_FIELDS.includes(name) || name === 'intervalLength')
      throw invalid(
        `greenButtonReadingType: "${name}" is not a ReadingType field it takes (one of ${READING_TYPE_FIELDS.filter((f) => f !== 'intervalLength').join(', ')})`,
      )
    if (!/^-?\d{1,9}$/.test(value))
      throw invalid(`greenButtonReadingType: ${name} must be a whole number, found "${value}"`)
    fields.set(name, Number(value))
  }
  return fields
}

/** The ReadingType content of these fields (any order) and interval length. */
export function readingTypeContent(fields: ReadonlyMap<string, number>, intervalLength?: number): string {
  const all = new Map(fields)
  if (intervalLength !== undefined) all.set('intervalLength', intervalLength)
  const body = READING_TYPE_FIELDS.filter((f) => all.has(f))
    .map((f) => `<${f}>${all.get(f)}</${f}>`)
    .join('')
  return `<ReadingType xmlns="${ESPI_NS}">${body}</ReadingType>`
}

/** The offset from UTC of `zone` at `at` (epoch ms), in seconds. */
function offsetAt(zone: Intl.DateTimeFormat, at: number): number {
  const name = zone.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? ''
  const match = /^GMT([+-])(\d{1,2})(?::(\d\d))?(?::(\d\d))?$/.exec(name)
  if (!match) return 0
  const seconds = Number(match[2]) * 3600 + Number(match[3] ?? 0) * 60 + Number(match[4] ?? 0)
  return match[1] === '-' ? -seconds : seconds
}

/**
 * A daylight-saving transition as ESPI's DstRuleType: month (bits 28-31), operator (25-27: 2-6 the nth
 * weekday of the month, 7 the last), weekday (17-19, Monday 1), hour (12-16) and seconds (0-11) of the local
 * time just before it. `instant` is the first second of the new offset; `before` the offset until then.
 */
function dstRule(instant: number, before: number): string {
  const local = new Date((instant + before) * 1000)
  const month = local.getUTCMonth() + 1
  const day = local.getUTCDate()
  const daysInMonth = new Date(Date.UTC(local.getUTCFullYear(), month, 0)).getUTCDate()
  const operator = day + 7 > daysInMonth ? 7 : Math.ceil(day / 7) + 1
  const weekday = local.getUTCDay() === 0 ? 7 : local.getUTCDay()
  const seconds = local.getUTCMinutes() * 60 + local.getUTCSeconds()
  const rule =
    month * 2 ** 28 + operator * 2 ** 25 + weekday * 2 ** 17 + local.getUTCHours() * 2 ** 12 + seconds
  return rule.toString(16).toUpperCase().padStart(8, '0')
}

/** The LocalTimeParameters of an IANA time zone, from its offsets and transitions in one year. */
export function localTimeParameters(timeZone: string, year: number): string {
  const zone = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
  const DAY = 86_400
  const first = Date.UTC(year, 0, 1) / 1000
  const transitions: { instant: number; before: number; after: number }[] = []
  let previous = offsetAt(zone, first * 1000)
  for (let day = first + DAY; day <= Date.UTC(year + 1, 0, 1) / 1000; day += DAY) {
    const offset = offsetAt(zone, day * 1000)
    if (offset === previous) continue
    // The first second of the new offset, within this day.
    let low = day - DAY
    let high = day
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2)
      if (offsetAt(zone, middle * 1000) === previous) low = middle
      else high = middle
    }
    transitions.push({ instant: high, before: previous, after: offset })
    previous = offset
  }
  const start = transitions.find((t) => t.after > t.before)
  const end = transitions.find((t) => t.after < t.before)
  // No daylight saving (or an irregular year): the rules are off (FFFFFFFF, ESPI's "disabled").
  const regular = start && end && transitions.length === 2
  const standard = regular ? end.after : offsetAt(zone, first * 1000)
  const fields = regular
    ? {
        end: dstRule(end.instant, end.before),
        dst: start.after - start.before,
        start: dstRule(start.instant, start.before),
      }
    : { end: 'FFFFFFFF', dst: 0, start: 'FFFFFFFF' }
  return `<LocalTimeParameters xmlns="${ESPI_NS}"><dstEndRule>${fields.end}</dstEndRule><dstOffset>${fields.dst}</dstOffset><dstStartRule>${fields.start}</dstStartRule><tzOffset>${standard}</tzOffset></LocalTimeParameters>`
}

/** The defaults of these settings, checked now so that a mistake stops the server naming the setting. */
export function feedDefaults(settings: {
  greenButtonTimeZone: string
  greenButtonReadingType: string
}): FeedDefaults {
  const timeZone = settings.greenButtonTimeZone
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
  } catch {
    throw invalid(
      `greenButtonTimeZone: "${timeZone}" is not a time zone (an IANA name, such as America/New_York or UTC)`,
    )
  }
  const fields = readingTypeFields(settings.greenButtonReadingType)
  return {
    timeZone,
    localTime: (at) => localTimeParameters(timeZone, new Date(at).getUTCFullYear()),
    readingType: (intervalLength) => readingTypeContent(fields, intervalLength),
  }
}
