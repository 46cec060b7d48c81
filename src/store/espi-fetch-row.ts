/** One ESPI resource a third party fetched under one Authorization (espi-fetch-store.ts). */
export interface EspiFetchRow {
  /** Epoch milliseconds. */
  at: number
  customer_id: string
  authorization_id: string
  client_id: string
  /** The resource asked for: `IntervalBlock`, `Batch/Subscription`, ... (espi-fetch-log.ts). */
  kind: string
  /** The readings served start in [period_start, period_end), epoch seconds; null when none was. */
  period_start: number | null
  period_end: number | null
  /** Bytes of the response; null when it was shared by several customers' data (a bulk transfer). */
  bytes: number | null
}
