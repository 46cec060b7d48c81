import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import type { AuditEntry } from '../audit/chain.js'
import { AuditSpool } from './audit-spool.js'
import { openSqlite } from './dialects.js'
import type { AuditHead } from './write-statements.js'

/**
 * A serving SQLite node's audit records alone (no change with them), appended in a worker thread with a
 * connection of its own. better-sqlite3 is synchronous: on the serving connection a batch's chaining (a
 * SHA-256 a record), its rows and its commit, fsync included, ran on the event loop, and every request that
 * arrived meanwhile waited for them (a fifth of a loaded node's time). Here the worker takes the write lock,
 * chains after the head it reads under it, commits with the same durability (synchronous FULL) and answers;
 * the batch's callers hear their answers only then. When another connection holds the write lock past
 * LOCK_WAIT_MS (a bulk import), the batch is committed to the spool instead (audit-spool.ts) and chained into
 * the log once the lock is free. (PostgreSQL's appends are already off the event loop, in the server: a
 * worker there only added a thread's hop and its share of the cores, and was slower.)
 *
 * The worker is the built module (dist/store/audit-appender.js), also when this one runs from the sources
 * (tests run after `npm run build`): from either place the path below leads there.
 */
const WORKER_FILE = new URL('../../dist/store/audit-appender.js', import.meta.url)
const ROLE = 'audit-appender'
/**
 * How long the worker waits for the write lock another connection holds before it spools the batch: longer
 * than any write's commit (a sync's tail on a slow disk included), far shorter than an import's transaction.
 */
const LOCK_WAIT_MS = 250

/** What append resolves to for a batch committed to the spool, not yet to the log. */
export const SPOOLED = 'spooled'

type Request = { id: number; entries: readonly AuditEntry[] }
type Answer = {
  id: number
  head?: AuditHead | undefined
  spooled?: true
  failed?: { message: string; code?: string }
}

/** An append SQLite refused; `code` is its own (SQLITE_FULL, SQLITE_CONSTRAINT_TRIGGER...). */
export class AuditAppendError extends Error {
  readonly code: string | undefined
  constructor(message: string, code?: string) {
    super(message)
    this.name = 'AuditAppendError'
    this.code = code
  }
}

type Appended = AuditHead | typeof SPOOLED | undefined
type Waiting = { resolve: (appended: Appended) => void; reject: (e: Error) => void }

export class AuditAppender {
  readonly #worker: Worker
  readonly #waiting = new Map<number, Waiting>()
  #nextId = 0
  #gone = false

  constructor(file: string, lockWaitMs = LOCK_WAIT_MS) {
    this.#worker = new Worker(WORKER_FILE, { workerData: { role: ROLE, file, lockWaitMs } })
    this.#worker.unref() // kept alive by the appends it owes, not by itself
    this.#worker.on('message', (answer: Answer) => {
      const waiting = this.#waiting.get(answer.id)
      this.#waiting.delete(answer.id)
      if (this.#waiting.size === 0) this.#worker.unref()
      if (answer.failed) waiting?.reject(new AuditAppendError(answer.failed.message, answer.failed.code))
      else waiting?.resolve(answer.spooled ? SPOOLED : answer.head)
    })
    const gone = () => {
      this.#gone = true
      for (const { resolve } of this.#waiting.values()) resolve(undefined)
      this.#waiting.clear()
    }
    this.#worker.on('error', gone)
    this.#worker.on('exit', gone)
  }

  /**
   * Appends `entries` after the log's head: resolves to the new head once they are committed; to SPOOLED once
   * they are committed to the spool (the write lock stayed held); to undefined when the caller must append
   * them itself: the worker is gone. A worker that dies with a batch in hand may have committed it: it is
   * then written twice (a record twice rather than none). Rejects (AuditAppendError) when SQLite refused.
   */
  append(entries: readonly AuditEntry[]): Promise<Appended> {
    if (this.#gone) return Promise.resolve(undefined)
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      if (this.#waiting.size === 0) this.#worker.ref()
      this.#waiting.set(id, { resolve, reject })
      this.#worker.postMessage({ id, entries } satisfies Request)
    })
  }

  async stop(): Promise<void> {
    await this.#worker.terminate()
  }
}

/** The worker: one connection, one append at a time, each its own transaction. */
function serveAsAppender(file: string, lockWaitMs: number) {
  const port = parentPort
  if (!port) return
  // Waiting for the lock blocks this thread only, never the event loop of the node.
  const db = openSqlite(file, lockWaitMs)
  const spool = new AuditSpool(db, file)
  const failed = (id: number, error: unknown) => {
    const { message, code } = error as { message?: string; code?: unknown }
    port.postMessage({
      id,
      failed: { message: message ?? String(error), ...(typeof code === 'string' ? { code } : {}) },
    } satisfies Answer)
  }
  port.on('message', ({ id, entries }: Request) => {
    try {
      port.postMessage({ id, head: spool.append(entries) } satisfies Answer)
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_BUSY') return failed(id, error)
      try {
        spool.keep(entries)
        port.postMessage({ id, spooled: true } satisfies Answer)
      } catch (spoolError) {
        failed(id, spoolError)
      }
    }
  })
}

if (!isMainThread && workerData?.role === ROLE) serveAsAppender(workerData.file, workerData.lockWaitMs)
