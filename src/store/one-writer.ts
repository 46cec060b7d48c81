import type { StoreKind } from './dialects.js'

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
