import type { Kysely } from 'kysely'
import { HELD, PARKED } from './outbox.js'
import type { Database } from './schema.js'

/** Undelivered outbox messages by state: due (or retrying), held for an import, parked for an operator. */
export interface OutboxDepth {
  due: number
  held: number
  parked: number
  /** Of the due ones, those that failed at least once and wait to be tried again. */
  retrying: number
}

/** What an operator watches the store by (metrics/metrics.ts reads it on each scrape). */
export interface StatsStore {
  /** The newest revision of the change log, whichever node wrote it. */
  headRevision(): Promise<number>
  outboxDepth(): Promise<OutboxDepth>
}

export function statsStore(db: Kysely<Database>): StatsStore {
  return {
    async headRevision() {
      const row = await db
        .selectFrom('changes')
        .select((eb) => eb.fn.max('revision').as('head'))
        .executeTakeFirst()
      return Number(row?.head ?? 0)
    },
    async outboxDepth() {
      // One grouped count: a scrape costs one query whatever the queue's length.
      const rows = await db
        .selectFrom('outbox')
        .select((eb) => [
          eb
            .case()
            .when('next_attempt_at', '=', PARKED)
            .then('parked')
            .when('next_attempt_at', '=', HELD)
            .then('held')
            .when('attempts', '>', 0)
            .then('retrying')
            .else('due')
            .end()
            .as('state'),
          eb.fn.countAll().as('count'),
        ])
        .where('delivered_at', 'is', null)
        .groupBy('state')
        .execute()
      const depth: OutboxDepth = { due: 0, held: 0, parked: 0, retrying: 0 }
      for (const row of rows) depth[row.state as keyof OutboxDepth] = Number(row.count)
      depth.due += depth.retrying
      return depth
    },
  }
}
