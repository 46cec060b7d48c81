import { Type } from '@sinclair/typebox'
import { conflict, notFound } from '../errors.js'
import { type Operation, operation } from '../kernel/operations.js'
import { Id } from '../kernel/schemas.js'
import { HELD, PARKED } from '../store/outbox.js'
import type { OutboxRow } from '../store/schema.js'

const tags = ['outbox']
/** The undelivered messages listed: the oldest first, as the worker sends them. */
const LISTED = 500

export type OutboxState = 'pending' | 'failed' | 'parked' | 'superseded' | 'held'

/** Where an undelivered message stands. Pure. */
export function outboxState(row: OutboxRow): OutboxState {
  if (row.superseded_by) return 'superseded'
  if (row.next_attempt_at === HELD) return 'held'
  if (row.next_attempt_at === PARKED) return 'parked'
  return row.attempts > 0 ? 'failed' : 'pending'
}

/** Why "retry now" cannot apply to a message, or undefined when it can. Pure. */
export function retryRefusal(row: OutboxRow): string | undefined {
  if (row.delivered_at) return `message ${row.id} was delivered at ${row.delivered_at}`
  switch (outboxState(row)) {
    case 'superseded':
      return `message ${row.id} was absorbed by the newer message ${row.superseded_by}, which carries its news`
    case 'held':
      return `message ${row.id} waits for its import to be published: its data cannot be fetched yet`
    default:
      return undefined
  }
}

/** The Custodian usage points a publication notice names (its topics end in the UsagePoint resource id). */
async function usagePointsNamed(
  store: { resource(id: string): Promise<{ usage_point_id: string } | undefined> },
  row: OutboxRow,
): Promise<string[]> {
  const topics = row.topics ? (JSON.parse(row.topics) as string[]) : []
  const found = await Promise.all(topics.map((uri) => store.resource(uri.split('/').pop() ?? '')))
  return [...new Set(found.flatMap((r) => (r ? [r.usage_point_id] : [])))]
}

const Message = Type.Object({
  id: Type.String(),
  channel: Type.Union([Type.Literal('email'), Type.Literal('http')]),
  target: Type.String({ description: 'the email address, or the URL notified' }),
  subject: Type.String(),
  state: Type.String({ description: 'pending, failed (retried later), parked, superseded or held' }),
  attempts: Type.Integer(),
  created_at: Type.String(),
  next_attempt_at: Type.Union([Type.String(), Type.Null()], { description: 'null when none is planned' }),
  usage_points: Type.Array(Type.String(), { description: 'the usage points a publication notice names' }),
  errors: Type.Array(Type.Object({ attempt: Type.Integer(), at: Type.String(), error: Type.String() })),
})

/**
 * The outbox for operators: the messages not yet delivered (notices to third parties, emails to customers),
 * each with every error its attempts met, and "retry now" for a failed or parked one.
 */
export const outboxOperations = {
  list: operation({
    name: 'list_outbox',
    summary:
      'The undelivered messages, oldest first: pending, failed, parked, with every error kept (administrators)',
    tags,
    permission: 'admin',
    input: Type.Object({}, { additionalProperties: false }),
    output: Type.Object({ items: Type.Array(Message) }),
    http: { method: 'GET', path: '/v1/outbox' },
    script: { usage: 'list_outbox', help: 'lists the undelivered messages and their errors', args: [] },
    async run({ custodian }) {
      const { store } = custodian
      const rows = await store.pendingOutbox(LISTED)
      const items = await Promise.all(
        rows.map(async (row) => {
          const state = outboxState(row)
          return {
            id: row.id,
            channel: row.channel,
            target: row.target,
            subject: row.subject,
            state,
            attempts: row.attempts,
            created_at: row.created_at,
            next_attempt_at: state === 'pending' || state === 'failed' ? row.next_attempt_at : null,
            usage_points: await usagePointsNamed(store.usage, row),
            errors: (await store.outboxAttempts(row.id)).map(({ attempt, at, error }) => ({
              attempt,
              at,
              error,
            })),
          }
        }),
      )
      return { items }
    },
  }),
  retry: operation({
    name: 'retry_outbox_message',
    summary:
      'Retry an undelivered message now, a parked one too: the outbox worker sends it at its next poll (administrators)',
    tags,
    permission: 'admin',
    action: 'outbox.retry',
    // Checked in `run`, which names the administrator in the audit record of the retry.
    checkedByService: true,
    input: Type.Object({ id: Id }, { additionalProperties: false }),
    output: Type.Object({ summary: Type.String() }),
    http: { method: 'POST', path: '/v1/outbox/:id/retry' },
    script: {
      usage: 'retry_outbox_message <id>',
      help: 'makes an undelivered message due now (a parked one too)',
      args: ['id'],
      present: (r) => ({ message: r.summary, result: r }),
    },
    async run({ custodian, token }, { id }) {
      const actor = custodian.authorizeAdminAction(token, 'outbox.retry')
      const row = await custodian.store.outboxMessage(id)
      if (!row) throw notFound(`outbox message ${id} does not exist`)
      const refusal = retryRefusal(row)
      // Delivered or absorbed meanwhile: the store's update is conditional on the same facts.
      if (refusal || !(await custodian.store.retryOutbox(id, new Date(custodian.now()).toISOString())))
        throw conflict(refusal ?? `message ${id} changed meanwhile: reload the outbox`)
      const summary = `message ${id} to ${row.target} is due now (after ${row.attempts} failed attempt(s))`
      custodian.audit({ actor, action: 'outbox.retry', resource: id, outcome: 'ok', reason: summary })
      return { summary }
    },
  }),
} satisfies Record<string, Operation>
