import type { Logger } from '../logger.js'
import type { EspiFetchRow } from '../store/espi-fetch-row.js'
import type { EspiFetchStore } from '../store/espi-fetch-store.js'
import type { AuthorizationRow } from '../store/schema.js'
import { ESPI_RESOURCE_PATH } from './namespaces.js'

/** What one ESPI request served: the Authorizations whose data it read, and the readings' period. */
export interface Served {
  authorizations: Map<string, AuthorizationRow>
  /** Readings served start in [start, end), epoch seconds. */
  period?: { start: number; end: number }
}

/** Widens the period served to take in readings in [start, end). */
export function servedReadings(served: Served, start: number, end: number): void {
  const p = served.period
  served.period = p ? { start: Math.min(p.start, start), end: Math.max(p.end, end) } : { start, end }
}

/**
 * The kind of resource a route serves, from its path pattern: its last named part, `Batch/` before a batch.
 * `/espi/1_1/resource/Subscription/:sub/UsagePoint/:up/MeterReading/:mr/IntervalBlock` is `IntervalBlock`.
 */
export function resourceKindOf(route: string): string {
  const parts = route
    .slice(ESPI_RESOURCE_PATH.length)
    .split('/')
    .filter((p) => p !== '' && !p.startsWith(':'))
  const last = parts.at(-1) ?? 'resource'
  return parts[0] === 'Batch' ? `Batch/${last}` : last
}

/**
 * One row per customer whose data the request served. A response carrying several customers' data (a bulk
 * transfer) has no bytes of any one customer's to show. Pure.
 */
export function fetchRows(served: Served, clientId: string, kind: string, bytes: number, at: number) {
  const shared = served.authorizations.size > 1
  return [...served.authorizations.values()].map(
    (a): EspiFetchRow => ({
      at,
      customer_id: a.customer_id,
      authorization_id: a.id,
      client_id: clientId,
      kind,
      period_start: served.period?.start ?? null,
      period_end: served.period?.end ?? null,
      bytes: shared ? null : bytes,
    }),
  )
}

/** Fetches are kept this long: past the longest history a customer would look back on. */
export const FETCH_LOG_DAYS = 400
const PRUNE_EVERY_MS = 3_600_000

/**
 * Writes fetch rows in batches, within `flushMs` of the first queued (the audit log's pace), so serving a
 * resource costs an array push; rows older than FETCH_LOG_DAYS go at most hourly with a batch.
 */
export class EspiFetchLog {
  #pending: EspiFetchRow[] = []
  #timer: NodeJS.Timeout | undefined
  #writing: Promise<void> = Promise.resolve()
  #prunedAt = 0

  constructor(
    readonly store: EspiFetchStore,
    readonly options: { flushMs: number; now: () => number; log: Logger },
  ) {}

  add(rows: readonly EspiFetchRow[]): void {
    if (rows.length === 0) return
    this.#pending.push(...rows)
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined
      void this.flush()
    }, this.options.flushMs)
  }

  /** Writes what is queued; resolves once it is written (or its failure logged). */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    const rows = this.#pending
    this.#pending = []
    this.#writing = this.#writing.then(() => this.#write(rows))
    return this.#writing
  }

  async #write(rows: EspiFetchRow[]): Promise<void> {
    const now = this.options.now()
    try {
      if (rows.length > 0) await this.store.record(rows)
      if (now - this.#prunedAt >= PRUNE_EVERY_MS) {
        this.#prunedAt = now
        await this.store.prune(now - FETCH_LOG_DAYS * 86_400_000)
      }
    } catch (error) {
      // The audit log holds every request anyway; the customer's view just misses these.
      this.options.log.error({ err: error, rows: rows.length }, 'writing the ESPI fetch log failed')
    }
  }
}
