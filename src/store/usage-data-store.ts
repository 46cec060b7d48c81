import { randomUUID } from 'node:crypto'
import { type Kysely, type SqlBool, sql, type Transaction } from 'kysely'
import type { Prepare, StoreKind } from './dialects.js'
import { type OutboxMessage, supersedeInto } from './outbox.js'
import { postgresReadings, type ReadingsWriter, sqliteReadings } from './readings-writer.js'
import type { Database, GbBlockRow, GbReadingRow, GbResourceRow } from './schema.js'

export interface ResourceInput {
  usagePointId: string
  kind: string
  source: string
  title: string
  content: string
  linkId?: string | null
  intervalLength?: number | null
}

/** What an import writes with, inside its one transaction. `at` is the publication time (epoch ms). */
export interface UsageWriter extends ReadingsWriter {
  /**
   * Adds a resource, or revises the one from the same place (usage point, kind, source); `updated` moves
   * only when something changed. `placeholder` adds it only if it is missing (an IntervalBlock read before
   * its MeterReading).
   */
  putResource(
    input: ResourceInput,
    at: number,
    placeholder?: boolean,
  ): Promise<{ id: string; changed: boolean }>
  /** Links a resource to another (a MeterReading to its ReadingType, a UsagePoint to its local time). */
  linkResource(id: string, linkId: string, intervalLength: number | null, at: number): Promise<void>
  /** Queues a message to send once the import has committed. */
  notify(messages: readonly OutboxMessage[], at: number): Promise<void>
}

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
  /** Runs an import in one transaction: its data and its messages commit together, or nothing does. */
  importing<T>(work: (writer: UsageWriter) => Promise<T>): Promise<T>
  /** One resource by its id. */
  resource(id: string): Promise<GbResourceRow | undefined>
  /** The resources (not readings) of these usage points. */
  resources(usagePointIds: readonly string[]): Promise<GbResourceRow[]>
  blocks(query: BlockQuery): Promise<GbBlockRow[]>
  /** Up to `limit` readings of one meter reading starting in [from, to) (epoch seconds), in order. */
  readings(meterReadingId: string, from: number, to: number, limit: number): Promise<ServedReading[]>
}

export function usageDataStore(
  db: Kysely<Database>,
  kind: StoreKind,
  /** For SQLite, the connection's kept statements: readings are written with them. */
  prepare?: Prepare,
): UsageDataStore {
  // A null-safe "differs": a cost may be missing on either side.
  const differs = kind === 'postgres' ? sql.raw('is distinct from') : sql.raw('is not')

  const writer = (trx: Transaction<Database>, rows: ReadingsWriter): UsageWriter => ({
    async putResource(input, at, placeholder = false) {
      const existing = await trx
        .selectFrom('gb_resources')
        .selectAll()
        .where('usage_point_id', '=', input.usagePointId)
        .where('kind', '=', input.kind)
        .where('source', '=', input.source)
        .executeTakeFirst()
      const fields = {
        title: input.title,
        content: input.content,
        link_id: input.linkId ?? existing?.link_id ?? null,
        interval_length: input.intervalLength ?? existing?.interval_length ?? null,
      }
      if (!existing) {
        const id = randomUUID()
        await trx
          .insertInto('gb_resources')
          .values({
            id,
            usage_point_id: input.usagePointId,
            kind: input.kind,
            source: input.source,
            ...fields,
            published: at,
            updated: at,
          })
          .execute()
        return { id, changed: true }
      }
      const changed =
        !placeholder &&
        (existing.title !== fields.title ||
          existing.content !== fields.content ||
          existing.link_id !== fields.link_id ||
          existing.interval_length !== fields.interval_length)
      if (changed) {
        await trx
          .updateTable('gb_resources')
          .set({ ...fields, updated: at })
          .where('id', '=', existing.id)
          .execute()
      }
      return { id: existing.id, changed }
    },

    async linkResource(id, linkId, intervalLength, at) {
      await trx
        .updateTable('gb_resources')
        .set({ link_id: linkId, interval_length: intervalLength, updated: at })
        .where('id', '=', id)
        .where((eb) =>
          eb.or([
            eb('link_id', 'is', null),
            eb('link_id', '<>', linkId),
            sql<SqlBool>`interval_length ${differs} ${intervalLength}`,
          ]),
        )
        .execute()
    },

    putReadings: (meterReadingId, readings, at) => rows.putReadings(meterReadingId, readings, at),
    putBlock: (meterReadingId, block, changed, at) => rows.putBlock(meterReadingId, block, changed, at),

    async notify(messages, at) {
      // The seed: pushes are retried until the next publication; after that the third party fetches what
      // it missed (updated-min). A newer notice takes an older one's place only by naming all it named.
      for (const m of messages) await supersedeInto(trx, m, new Date(at).toISOString())
    },
  })

  return {
    importing: (work) =>
      db
        .transaction()
        .execute((trx) => work(writer(trx, prepare ? sqliteReadings(prepare) : postgresReadings(trx)))),

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
