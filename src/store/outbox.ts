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
}

/** When a message that will not be sent again is due: never. */
export const PARKED = '9999-12-31T00:00:00.000Z'

/** Queues messages in the write's own transaction, due at once; notify/outbox-worker.ts sends them. */
export async function insertOutbox(
  trx: Transaction<Database>,
  messages: readonly OutboxMessage[],
  at: string,
) {
  if (messages.length === 0) return
  await trx
    .insertInto('outbox')
    .values(
      messages.map((m) => ({
        id: randomUUID(),
        channel: m.channel,
        target: m.target,
        subject: m.subject,
        body: m.body,
        content_type: m.contentType,
        attempts: 0,
        next_attempt_at: at,
        leased_until: null,
        delivered_at: null,
        last_error: null,
        created_at: at,
      })),
    )
    .execute()
}
