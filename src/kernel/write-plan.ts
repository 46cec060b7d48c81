import type { OutboxMessage } from '../store/outbox.js'
import type { PlannedChange, WritePlan } from '../store/store.js'

/** What a write planner returns: the rows to change, in words, and the messages to send once committed. */
export interface Plan {
  changes: PlannedChange[]
  /** One line saying what happened, for scripts, the CLI and the audit log. */
  summary: string
  /** Facts a caller may want back (the ids touched, what was created on the way). */
  details?: Record<string, unknown>
  /** Messages to deliver once the change has committed. */
  outbox?: OutboxMessage[]
}

/** The result of an administrative change. */
export interface ChangeResult {
  revision: number
  summary: string
  details?: Record<string, unknown>
}

/** Who is calling, as the edge that received the call saw it. */
export interface CallContext {
  /** Client network address, for login throttling and the audit log. */
  address?: string
}

/** A planned change as the store commits it: its rows, its audit record, its messages. */
export function writePlan(
  planned: Plan,
  audit: { at: string; actor: string; action: string; resource: string },
): WritePlan<Plan> {
  return {
    changes: planned.changes,
    audit: [{ ...audit, outcome: 'ok', reason: planned.summary }],
    outbox: planned.outbox ?? [],
    result: planned,
  }
}

export function changeResult(outcome: { revision: number; result: Plan }): ChangeResult {
  const { summary, details } = outcome.result
  return details ? { revision: outcome.revision, summary, details } : { revision: outcome.revision, summary }
}
