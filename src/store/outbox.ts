import { randomUUID } from 'node:crypto'
import type { Transaction } from 'kysely'
import type { Database } from './schema.js'

/** A message to send once the write that causes it has committed. */
export interface OutboxMessage {
  channel: 'email' | 'http'
  target: string
  subject: string
  body: string
  contentType: string
  /**
   * For a notice a newer one may take the place of (a publication's BatchList): what it names, and how its
   * body is made from a list of such names. An undelivered older notice to the same place is then absorbed
   * into the new one, which names everything both named (see supersedeInto).
   */
  merge?: { topics: readonly string[]; compose: (topics: readonly string[]) => string }
}

/** When a message that will not be sent again is due: never. */
export const PARKED = '9999-12-31T00:00:00.000Z'

/**
 * When a message queued by an import that is still being published is due: not before the import's data can
 * be fetched (releaseHeld). Unlike a parked one, a newer notice still absorbs it.
 */
export const HELD = '9999-12-30T00:00:00.000Z'

/** A new message's row, made at `at` and due at `due`. */
const outboxRow = (m: OutboxMessage, at: string, due = at) => ({
  id: randomUUID(),
  channel: m.channel,
  target: m.target,
  subject: m.subject,
  body: m.body,
  content_type: m.contentType,
  attempts: 0,
  next_attempt_at: due,
  leased_until: null,
  delivered_at: null,
  last_error: null,
  created_at: at,
  topics: m.merge ? JSON.stringify(m.merge.topics) : null,
  superseded_by: null,
})

/** Queues messages in the write's own transaction, due at once; notify/outbox-worker.ts sends them. */
export async function insertOutbox(
  trx: Transaction<Database>,
  messages: readonly OutboxMessage[],
  at: string,
) {
  if (messages.length === 0) return
  await trx
    .insertInto('outbox')
    .values(messages.map((m) => outboxRow(m, at)))
    .execute()
}

/**
 * Queues `message`, first absorbing every undelivered, still-due message of the same subject to the same
 * place: the new one names everything they named (theirs first), and they are parked, pointing at it, with
 * their attempts kept. So a notice is retried until delivered or until a newer one carries its news; it is
 * never replaced by one that names less. Messages without `merge` are queued as they are.
 */
export async function supersedeInto(
  trx: Transaction<Database>,
  message: OutboxMessage,
  at: string,
  due = at,
): Promise<string> {
  const { merge } = message
  if (!merge) {
    const row = outboxRow(message, at, due)
    await trx.insertInto('outbox').values(row).execute()
    return row.id
  }
  const older = await trx
    .selectFrom('outbox')
    .select(['id', 'topics'])
    .where('delivered_at', 'is', null)
    .where('superseded_by', 'is', null)
    .where('next_attempt_at', '<>', PARKED)
    .where('topics', 'is not', null)
    .where('channel', '=', message.channel)
    .where('target', '=', message.target)
    .where('subject', '=', message.subject)
    .orderBy('created_at')
    .execute()
  const named = older.flatMap((row) => JSON.parse(row.topics as string) as string[])
  const topics = [...new Set([...named, ...merge.topics])]
  const row = outboxRow({ ...message, body: merge.compose(topics), merge: { ...merge, topics } }, at, due)
  await trx.insertInto('outbox').values(row).execute()
  if (older.length === 0) return row.id
  await trx
    .updateTable('outbox')
    .set({ superseded_by: row.id, next_attempt_at: PARKED })
    .where(
      'id',
      'in',
      older.map((o) => o.id),
    )
    .execute()
  return row.id
}

/** Makes the held messages `ids` due at `now` (those a newer notice absorbed meanwhile stay parked). */
export async function releaseHeld(trx: Transaction<Database>, ids: readonly string[], now: string) {
  if (ids.length === 0) return
  await trx
    .updateTable('outbox')
    .set({ next_attempt_at: now })
    .where('id', 'in', ids)
    .where('next_attempt_at', '=', HELD)
    .execute()
}
