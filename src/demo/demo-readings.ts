import { createHash } from 'node:crypto'

/** Days of hourly readings the demo publishes, up to the last whole hour. */
export const DEMO_DAYS = 14
const HOUR = 3600

/**
 * A home's use in one hour, in Wh: low at night, peaks in the morning and evening, and a steady wobble
 * from the hour and the meter, so that every start publishes the same value for the same hour. Pure.
 */
export function demoReading(usagePoint: string, start: number): number {
  const hour = new Date(start * 1000).getUTCHours()
  const shape = hour < 6 ? 0.4 : hour < 9 ? 1.3 : hour < 17 ? 0.8 : hour < 22 ? 1.6 : 0.7
  const wobble = createHash('sha256').update(`${usagePoint}/${start}`).digest().readUInt16BE(0) / 65_535
  return Math.round(450 * shape * (0.75 + 0.5 * wobble))
}

/** The demo's readings as the CSV the import reads: DEMO_DAYS of hourly readings for each usage point. Pure. */
export function demoReadingsCsv(usagePoints: readonly string[], nowMs: number): string {
  const end = Math.floor(nowMs / 1000 / HOUR) * HOUR
  const lines = ['usage_point,start,duration,value']
  for (const usagePoint of usagePoints)
    for (let start = end - DEMO_DAYS * 24 * HOUR; start < end; start += HOUR)
      lines.push(`${usagePoint},${start},${HOUR},${demoReading(usagePoint, start)}`)
  return `${lines.join('\n')}\n`
}
