import type BetterSqlite3 from 'better-sqlite3'
import { sql, type Transaction } from 'kysely'
import type { Prepare } from './dialects.js'
import type { Database } from './schema.js'

/** One interval reading as a file gives it. Times in epoch seconds, as ESPI writes them. */
export interface ReadingInput {
  start: number
  duration: number
  value: number
  cost?: number | null
  qualities: readonly number[]
}

/**
 * How an import writes interval readings, the bulk of a Green Button file (a 10-year file
 * is 350,400 readings in 3,650 blocks). Each backend gets statements prepared once per import, in batches
 * sized for it: SQLite runs statements of 32 readings, prepared once per import (compiling a 500-row INSERT
 * again for every batch was a quarter of an import); PostgreSQL gets up to 5,000 readings a round trip as
 * arrays, one statement text whatever the count.
 */
export interface ReadingsWriter {
  /** Adds readings and revises those at the same start; returns how many were new or changed. */
  putReadings(meterReadingId: string, readings: readonly ReadingInput[], at: number): Promise<number>
}

const COLUMNS = 'meter_reading_id, start, duration, value, cost, qualities, published, updated'
// Unchanged readings keep their `updated`, so `updated-min` finds only real revisions.
const REVISE = (differs: string) => `on conflict (meter_reading_id, start) do update set
  duration = excluded.duration, value = excluded.value, cost = excluded.cost, qualities = excluded.qualities,
  updated = excluded.updated
  where gb_readings.value <> excluded.value or gb_readings.duration <> excluded.duration
    or gb_readings.qualities <> excluded.qualities or gb_readings.cost ${differs} excluded.cost`

// Rows per SQLite statement: a few dozen halve the cost per row against one (fewer calls into SQLite).
const SQLITE_BATCH = 32

/**
 * On the SQLite database Kysely's transaction runs on (one connection: these statements are inside it),
 * through the connection's kept statements, so that each import reuses those of the last; better-sqlite3 runs
 * them synchronously.
 */
export function sqliteReadings(prepare: Prepare): ReadingsWriter {
  // One statement per row count, prepared on first use: full batches use SQLITE_BATCH rows, a block's
  // remainder the statement of its size (a day of 15-minute readings is 96: three full batches).
  const statements = new Map<number, BetterSqlite3.Statement>()
  const upsert = (rows: number) => {
    let statement = statements.get(rows)
    if (!statement) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')
      statement = prepare(`insert into gb_readings (${COLUMNS}) values ${values} ${REVISE('is not')}`)
      statements.set(rows, statement)
    }
    return statement
  }
  return {
    async putReadings(meterReadingId, readings, at) {
      let changed = 0
      for (let i = 0; i < readings.length; i += SQLITE_BATCH) {
        const rows = Math.min(SQLITE_BATCH, readings.length - i)
        const parameters: unknown[] = []
        for (let k = i; k < i + rows; k++) {
          const r = readings[k] as ReadingInput
          parameters.push(
            meterReadingId,
            r.start,
            r.duration,
            r.value,
            r.cost ?? null,
            r.qualities.join(','),
            at,
            at,
          )
        }
        changed += upsert(rows).run(parameters).changes
      }
      return changed
    },
  }
}

// Readings a PostgreSQL round trip: no limit on bound parameters applies to arrays, only the message size.
const PG_BATCH = 5_000

/** On PostgreSQL: readings sent as one array a column and unnested, so the statement text never changes. */
export function postgresReadings(trx: Transaction<Database>): ReadingsWriter {
  const revise = sql.raw(REVISE('is distinct from'))
  return {
    async putReadings(meterReadingId, readings, at) {
      let changed = 0
      for (let i = 0; i < readings.length; i += PG_BATCH) {
        const batch = readings.slice(i, i + PG_BATCH)
        const result = await sql`insert into gb_readings (${sql.raw(COLUMNS)})
          select ${meterReadingId}, r.start, r.duration, r.value, r.cost, r.qualities, ${at}::bigint, ${at}::bigint
          from unnest(${batch.map((r) => r.start)}::bigint[], ${batch.map((r) => r.duration)}::bigint[],
            ${batch.map((r) => r.value)}::bigint[], ${batch.map((r) => r.cost ?? null)}::bigint[],
            ${batch.map((r) => r.qualities.join(','))}::text[]) as r(start, duration, value, cost, qualities)
          ${revise}`.execute(trx)
        changed += Number(result.numAffectedRows ?? 0)
      }
      return changed
    },
  }
}
