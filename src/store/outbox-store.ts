import type { Kysely } from 'kysely'
import { HELD, PARKED } from './outbox.js'
import type { Database, OutboxAttemptRow, OutboxRow } from './schema.js'

/** The outbox as operators see it: what waits, why it failed, and a retry that makes a message due now. */

const counted = (row: OutboxRow): OutboxRow => ({ ...row, attempts: Number(row.attempts) })

export async function outboxAttempts(db: Kysely<Database>, id: string): Promise<OutboxAttemptRow[]> {
  const rows = await db
    .selectFrom('outbox_attempts')
    .selectAll()
    .where('message_id', '=', id)
    .orderBy('attempt')
    .execute()
  return rows.map((r) => ({ ...r, attempt: Number(r.attempt) }))
}

export async function pendingOutbox(db: Kysely<Database>, limit: number): Promise<OutboxRow[]> {
  const rows = await db
    .selectFrom('outbox')
    .selectAll()
    .where('delivered_at', 'is', null)
    .orderBy('created_at')
    .limit(limit)
    .execute()
  return rows.map(counted)
}

export async function outboxMessage(db: Kysely<Database>, id: string): Promise<OutboxRow | undefined> {
  const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst()
  return row && counted(row)
}

/**
 * Due at `now` (the worker's next poll sends it), if still undelivered, not absorbed by a newer notice (which
 * carries its news) and not held for an import still being published (its data cannot be fetched yet).
 */
export async function retryOutbox(db: Kysely<Database>, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('outbox')
    .set({ next_attempt_at: now })
    .where('id', '=', id)
    .where('delivered_at', 'is', null)
    .where('superseded_by', 'is', null)
    .where('next_attempt_at', '<>', HELD)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) > 0
}

/** Records a delivery, or a failed attempt with the time of the next (none: parked, kept for operators). */
export async function settleOutbox(
  db: Kysely<Database>,
  id: string,
  outcome: { deliveredAt: string } | { error: string; nextAttemptAt: string | null },
): Promise<void> {
  if ('deliveredAt' in outcome) {
    await db
      .updateTable('outbox')
      .set((eb) => ({
        delivered_at: outcome.deliveredAt,
        leased_until: null,
        last_error: null,
        attempts: eb('attempts', '+', 1),
      }))
      .where('id', '=', id)
      .execute()
    return
  }
  const error = outcome.error.slice(0, 1000)
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('outbox')
      .set((eb) => ({
        last_error: error,
        leased_until: null,
        // No next attempt, or a newer message took its place while it was out: parked, kept for operators.
        next_attempt_at: eb
          .case()
          .when('superseded_by', 'is not', null)
          .then(PARKED)
          .else(outcome.nextAttemptAt ?? PARKED)
          .end(),
        attempts: eb('attempts', '+', 1),
      }))
      .where('id', '=', id)
      .returning('attempts')
      .executeTakeFirst()
    if (row)
      await trx
        .insertInto('outbox_attempts')
        .values({ message_id: id, attempt: Number(row.attempts), at: new Date().toISOString(), error })
        .execute()
  })
}
