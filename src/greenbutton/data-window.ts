import { parseEspiScope } from '../consent/espi-scope.js'
import type { AuthorizationRow } from '../store/schema.js'

/**
 * What one Authorization lets its third party read of the published data. Pure.
 *
 * - Usage points: those the customer chose.
 * - Function blocks: interval data needs FB 4 (Interval Metering); usage summaries FB 15 or 16; power
 *   quality summaries FB 17. Usage points, meter readings, reading types and local time are the core every
 *   scope includes.
 * - IntervalDuration: only meter readings of those interval lengths (all when the scope names none).
 * - HistoryLength: readings that start no earlier than that long before now.
 * - The end of the authorized period: after a termination that is the end of the termination date, so data
 *   up to and including that date stays readable and nothing after it is ever served (seed: ADE
 *   Authorization - Consumer Terminates Permission, step 6).
 */
export interface DataWindow {
  authorization: AuthorizationRow
  usagePointIds: ReadonlySet<string>
  /** Readings starting in [from, to), epoch seconds. */
  from: number
  to: number
  intervalDurations: readonly number[]
  functionBlocks: ReadonlySet<number>
}

/** What the feeds need of a window: the customer's own download has no Authorization behind it. */
export type ReadingWindow = Omit<DataWindow, 'authorization'>

export function dataWindow(row: AuthorizationRow, nowMs: number): DataWindow {
  const parsed = parseEspiScope(row.scope)
  // Stored scopes were checked when granted; one that no longer parses grants nothing.
  const scope = parsed.ok ? parsed.scope : { functionBlocks: [], intervalDurations: [], historySeconds: 0 }
  const now = Math.floor(nowMs / 1000)
  return {
    authorization: row,
    usagePointIds: new Set(JSON.parse(row.usage_point_ids) as string[]),
    from: scope.historySeconds === undefined ? Number.MIN_SAFE_INTEGER : now - scope.historySeconds,
    to: Math.floor(Date.parse(row.period_end) / 1000),
    intervalDurations: scope.intervalDurations,
    functionBlocks: new Set(scope.functionBlocks),
  }
}

const FUNCTION_BLOCKS: Record<string, readonly number[]> = {
  IntervalBlock: [4],
  ElectricPowerUsageSummary: [15, 16],
  UsageSummary: [15, 16],
  ElectricPowerQualitySummary: [17],
}

/** The function blocks a resource of this kind needs, any one of them; undefined for the core. */
export const functionBlocksOf = (kind: string): readonly number[] | undefined => FUNCTION_BLOCKS[kind]

/** Whether a resource of this kind (and a meter reading's interval length) is within the window's scope. */
export function kindAllowed(window: ReadingWindow, kind: string, intervalLength?: number | null): boolean {
  if (kind === 'MeterReading')
    return (
      window.intervalDurations.length === 0 ||
      (intervalLength != null && window.intervalDurations.includes(intervalLength))
    )
  const blocks = functionBlocksOf(kind)
  return blocks ? blocks.some((b) => window.functionBlocks.has(b)) : true
}
