import type { Kysely, Transaction } from 'kysely'
import { HELD, PARKED } from './outbox.js'
import type { Database, OutboxAttemptRow, OutboxRow } from './schema.js'

/** The outbox as operators see it: what waits, why it failed, and a retry that makes a message due now. */

const counted = (row: OutboxRow): OutboxRow => ({ ...row, attempts: Number(row.attempts) })

/** Undelivered messages due at `now`, not leased by another node. */
const dueAt = (db: Kysely<Database>, now: string) =>
  db
    .selectFrom('outbox')
    .where('delivered_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', now)]))

/**
 * Leases up to `limit` messages due at `now` until `leaseUntil`, under the write lock. Most polls find none:
 * a read says so first, without the lock, which another connection may hold for minutes (a bulk import),
 * and which a poll every second would otherwise wait for, holding the connection its reads share.
 */
export async function claimOutbox(
  db: Kysely<Database>,
  lock: (trx: Transaction<Database>) => Promise<void>,
  { now, leaseUntil, limit }: { now: string; leaseUntil: string; limit: number },
): Promise<OutboxRow[]> {
  if (!(await dueAt(db, now).select('id').limit(1).executeTakeFirst())) return []
  return db.transaction().execute(async (trx) => {
    await lock(trx)
    const due = await dueAt(trx, now).selectAll().orderBy('next_attempt_at').limit(limit).execute()
    if (due.length > 0) {
      await trx
        .updateTable('outbox')
        .set({ leased_until: leaseUntil })
        .where(
          'id',
          'in',
          due.map((d) => d.id),
        )
        .execute()
    }
    return due.map(counted)
  })
}

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
