import type BetterSqlite3 from 'better-sqlite3'
import type { Kysely } from 'kysely'
import type { Prepare, StoreKind } from './dialects.js'
import { type EspiFetchStore, espiFetchStore } from './espi-fetch-store.js'
import type { Database, GbBlockRow, GbReadingRow, GbResourceRow } from './schema.js'
import { type Imported, stagedImports, type UsageWriter } from './staged-import.js'

/** What a served IntervalReading holds: the columns the feeds read, and no more (a year is 35,040 rows). */
export type ServedReading = Pick<GbReadingRow, 'start' | 'duration' | 'value' | 'cost' | 'qualities'>

/** The ESPI query parameters that select entries by their times (epoch ms, inclusive). */
export interface TimeFilter {
  publishedMin?: number
  publishedMax?: number
  updatedMin?: number
  updatedMax?: number
}

export interface BlockQuery extends TimeFilter {
  meterReadingId: string
  /** Blocks overlapping [from, to), epoch seconds. */
  from: number
  to: number
  /** Keyset paging: blocks starting after this. */
  after?: number
  /** A single block. */
  start?: number
  limit: number
}

/** Green Button data in the store: written by imports, read by the ESPI resource routes. */
export interface UsageDataStore {
  /**
   * Runs an import published at `at` (epoch ms): its data and its notices are published together, or nothing
   * is, without holding the store while the file is read (staged-import.ts).
   */
  importing<T>(at: number, work: (writer: UsageWriter) => Promise<T>): Promise<Imported<T>>
  /** Finishes the committed imports of processes that died, and drops their uncommitted ones. */
  recoverImports(): Promise<void>
  /** Announces that this process serves requests: imports in other processes give way to it. Answers how to stop. */
  announceServing(): Promise<() => Promise<void>>
  /** One resource by its id. */
  resource(id: string): Promise<GbResourceRow | undefined>
  /** The resources (not readings) of these usage points. */
  resources(usagePointIds: readonly string[]): Promise<GbResourceRow[]>
  blocks(query: BlockQuery): Promise<GbBlockRow[]>
  /** Up to `limit` readings of one meter reading starting in [from, to) (epoch seconds), in order. */
  readings(meterReadingId: string, from: number, to: number, limit: number): Promise<ServedReading[]>
  /** What third parties fetched of it, for each customer's access history. */
  readonly fetches: EspiFetchStore
}

export function usageDataStore(
  db: Kysely<Database>,
  kind: StoreKind,
  /** For SQLite, the connection and its kept statements: readings are written with them. */
  sqlite?: { sqlite: BetterSqlite3.Database; prepare: Prepare },
): UsageDataStore {
  const staged = stagedImports(db, kind, sqlite)

  return {
    importing: staged.importing,
    recoverImports: staged.recover,
    announceServing: staged.serving,
    fetches: espiFetchStore(db),

    resource: (id) => db.selectFrom('gb_resources').selectAll().where('id', '=', id).executeTakeFirst(),

    async resources(usagePointIds) {
      if (usagePointIds.length === 0) return []
      // Both drivers return numbers for bigint columns (see dialects.ts).
      return db
        .selectFrom('gb_resources')
        .selectAll()
        .where('usage_point_id', 'in', usagePointIds)
        .orderBy('published')
        .orderBy('id')
        .execute()
    },

    async blocks(q) {
      let query = db
        .selectFrom('gb_blocks')
        .selectAll()
        .where('meter_reading_id', '=', q.meterReadingId)
        .where('start', '<', q.to)
        .where((eb) => eb(eb('start', '+', eb.ref('duration')), '>', q.from))
      if (q.after !== undefined) query = query.where('start', '>', q.after)
      if (q.start !== undefined) query = query.where('start', '=', q.start)
      if (q.publishedMin !== undefined) query = query.where('published', '>=', q.publishedMin)
      if (q.publishedMax !== undefined) query = query.where('published', '<=', q.publishedMax)
      if (q.updatedMin !== undefined) query = query.where('updated', '>=', q.updatedMin)
      if (q.updatedMax !== undefined) query = query.where('updated', '<=', q.updatedMax)
      return query.orderBy('start').limit(q.limit).execute()
    },

    readings(meterReadingId, from, to, limit) {
      return db
        .selectFrom('gb_readings')
        .select(['start', 'duration', 'value', 'cost', 'qualities'])
        .where('meter_reading_id', '=', meterReadingId)
        .where('start', '>=', from)
        .where('start', '<', to)
        .orderBy('start')
        .limit(limit)
        .execute()
    },
  }
}
