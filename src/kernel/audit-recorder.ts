import type { AuditEntry } from '../audit/chain.js'
import type { Logger } from '../logger.js'
import type { PlannedChange, Store, WriteOutcome, WritePlan } from '../store/store.js'
import { type AuditVerification, verifyStoredAudit } from './audit-retention.js'

/** Changes a domain writes back with the next batch of audit records (a token's latest use, say). */
export type DueChanges = () => PlannedChange[]

interface RecorderDeps {
  store: Store
  log: Logger
  flushMs: number
  now: () => number
  /** The kernel's write path: applies pending changes to the Index before `decide`, then the committed ones. */
  write: <T>(decide: () => WritePlan<T>) => Promise<WriteOutcome<T>>
}

/**
 * The audit recorder: queues records and writes them in batches within `flushMs`; the changes domains
 * registered to write back lazily (a token's latest use) are written when a batch finds them due. A caller
 * that needs its record durable awaits `flushAudit()`. Group commit: one batch is written at a time, and every
 * flush asked for while it is written shares the next one, so the records of all requests in flight commit in
 * one transaction.
 *
 * Records go alone (store.appendAudit), write-backs through the write path in a transaction of their own,
 * which no record waits for: the write path waits for the write lock, held by a bulk import for minutes, and
 * a decision must not wait for it to be answered (on PostgreSQL records alone take only the audit log's lock).
 */
export class AuditRecorder {
  readonly #deps: RecorderDeps
  readonly #due: DueChanges[] = []
  #pending: AuditEntry[] = []
  #timer: NodeJS.Timeout | undefined
  /** The batch being written, and the one every flush asked for meanwhile waits for. */
  #writing: Promise<void> | undefined
  #next: Promise<void> | undefined
  /** The write-back being written, if any: one at a time, since each writes what is due when it starts. */
  #writingBack: Promise<void> | undefined
  #stopped = false
  /** The last record's time, kept as text: many records share a millisecond. */
  #atMs = Number.NaN
  #at = ''

  constructor(deps: RecorderDeps) {
    this.#deps = deps
  }

  /** Registers changes to write back with every batch; each call decides afresh what is due. */
  writeBackWith(due: DueChanges): void {
    this.#due.push(due)
  }

  /** Queues an audit record; records are written in batches within `flushMs`. */
  record(entry: Omit<AuditEntry, 'at'>): void {
    const ms = this.#deps.now()
    if (ms !== this.#atMs) {
      this.#atMs = ms
      this.#at = new Date(ms).toISOString()
    }
    const { actor, action, resource, outcome, reason } = entry
    this.#pending.push({ at: this.#at, actor, action, resource, outcome, reason })
    if (this.#timer === undefined) this.scheduleFlush()
  }

  /** Asks for a batch within `flushMs` (there is something to write back, say); no-op once one is due. */
  scheduleFlush(): void {
    if (this.#timer || this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.flushAudit().catch((error) => this.#deps.log.error({ err: error }, 'writing audit records failed'))
    }, this.#deps.flushMs)
  }

  /**
   * Writes queued records, and starts the write-back of due changes; resolves once the records are committed
   * (not waiting for the write-back). Every caller until the batch starts shares it; while one is being
   * written, the next starts when it ends (after a failure too: its records are queued again and retried).
   */
  flushAudit(): Promise<void> {
    if (this.#next) return this.#next
    // With nothing being written, the batch starts once the requests that arrived with this one have been
    // decided (setImmediate runs after the I/O callbacks of this turn): SQLite commits synchronously, and
    // would otherwise carry one record a commit.
    const previous = this.#writing?.catch(() => {}) ?? new Promise<void>((resolve) => setImmediate(resolve))
    const next = previous.then(() => {
      this.#next = undefined
      return this.#start()
    })
    this.#next = next
    return next
  }

  #start(): Promise<void> {
    const writing = this.#flushOnce().finally(() => {
      if (this.#writing === writing) this.#writing = undefined
    })
    this.#writing = writing
    return writing
  }

  /** No more scheduled batches: the node is closing and flushes once more itself. */
  stop(): void {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
  }

  #dueChanges(): PlannedChange[] {
    return this.#due.length === 1 ? (this.#due[0] as DueChanges)() : this.#due.flatMap((due) => due())
  }

  /** flushAudit, then the write-back of every due change: resolves once both are committed. */
  async flush(): Promise<void> {
    await this.flushAudit()
    await this.#writingBack?.catch(() => {}) // its failure is logged; what it did not write is still due
    if (this.#dueChanges().length > 0) await this.#writeBack()
  }

  async #flushOnce(): Promise<void> {
    if (!this.#writingBack && this.#dueChanges().length > 0) {
      this.#writeBack().catch((error) =>
        this.#deps.log.warn({ err: error }, 'writing back uses failed; they stay due'),
      )
    }
    const entries = this.#pending
    if (entries.length === 0) return
    this.#pending = []
    try {
      // Records alone need nothing of the Index: the cheapest append, without reading others' changes.
      await this.#deps.store.appendAudit(entries)
    } catch (error) {
      this.#pending = entries.concat(this.#pending)
      throw error
    }
  }

  /** Writes the due changes, if none is being written; what fails stays due, and is tried with a later batch. */
  #writeBack(): Promise<void> {
    if (this.#writingBack) return this.#writingBack
    // Decided under the lock, after other nodes' changes: a token ended elsewhere is not written back.
    const writing = this.#deps
      .write(() => ({ changes: this.#dueChanges(), audit: [], result: null }))
      .then(() => {})
      .finally(() => {
        this.#writingBack = undefined
      })
    this.#writingBack = writing
    return writing
  }

  /** Checks the audit chain, from genesis or the pruning checkpoint, once queued records are written. */
  async verify(): Promise<AuditVerification> {
    await this.flushAudit()
    return verifyStoredAudit(this.#deps.store)
  }
}
