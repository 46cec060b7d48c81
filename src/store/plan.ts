import type { OutboxMessage, PlannedChange } from './store.js'

/**
 * What a domain's write planner (its changes.ts) returns: the row changes to commit in one transaction, with
 * what to say and what to send once they have.
 */
export interface Plan {
  changes: PlannedChange[]
  /** One line saying what happened, for scripts, the CLI and the audit log. */
  summary: string
  /** Facts a caller may want back (the ids touched, what was created on the way). */
  details?: Record<string, unknown>
  /** Messages to deliver once the change has committed. */
  outbox?: OutboxMessage[]
}
