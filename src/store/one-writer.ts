import { sql, type Transaction } from 'kysely'
import { CustodianError, RETRY_AFTER_SECONDS } from '../errors.js'
import { LOCK_WAIT_MS, type StoreKind } from './dialects.js'
import type { Database } from './schema.js'

/**
 * A PostgreSQL node's transactions that take the write lock, one at a time (store.ts). Waiting for the lock
 * holds a pooled connection: while another process's bulk import held it, every login of the node held one,
 * until decisions' audit records found none free and their checks waited for the import too (17 s seen). In
 * turn, only one connection waits; the writes waited for each other at the lock anyway. A task's failure does
 * not stop the next.
 */
export function oneWriter(kind: StoreKind): <T>(task: () => Promise<T>) => Promise<T> {
  if (kind === 'sqlite') return (task) => task() // one connection: its transactions are in turn already
  let last: Promise<unknown> = Promise.resolve()
  return (task) => {
    const turn = last.then(task, task)
    last = turn.catch(() => {})
    return turn
  }
}

/** PostgreSQL's SQLSTATE for a lock not granted within lock_timeout. */
const LOCK_NOT_AVAILABLE = '55P03'

const lockHeld = () =>
  new CustodianError(
    'Unavailable',
    `the store's write lock stayed held by another write (a bulk import, say) for ${LOCK_WAIT_MS / 1000} s; try again shortly`,
    { retryAfterSeconds: RETRY_AFTER_SECONDS },
  )

/** When a write asking now gives up waiting for the write lock: set before its turn in the process. */
export const writeDeadline = () => Date.now() + LOCK_WAIT_MS

/**
 * Takes PostgreSQL's write lock `key` in `trx`. With a `deadline` (writeDeadline: writes queued behind one
 * another give up together), a 503 once it passes, as SQLite's BEGIN IMMEDIATE gives up after LOCK_WAIT_MS;
 * the timeout is the lock's alone, lifted once it is held. Without, as long as it takes (a bulk import).
 */
export async function takeWriteLock(
  trx: Transaction<Database>,
  key: number,
  deadline?: number,
): Promise<void> {
  if (deadline === undefined) {
    await sql`select pg_advisory_xact_lock(${key})`.execute(trx)
    return
  }
  const wait = Math.ceil(deadline - Date.now())
  if (wait <= 0) throw lockHeld()
  try {
    // One round trip: a simple query's statements run in order, and the first error ends it.
    await sql
      .raw(
        `set local lock_timeout = ${wait}; select pg_advisory_xact_lock(${key}); set local lock_timeout to default`,
      )
      .execute(trx)
  } catch (error) {
    if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) throw lockHeld()
    throw error
  }
}
