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
 * The audit recorder: queues records and writes them in batches within `flushMs`, together with the changes
 * domains registered to write back lazily. A caller that needs its record durable awaits `flush()`. Group
 * commit: one batch is written at a time, and every flush asked for while it is written shares the next one,
 * so the records of all requests in flight commit in one transaction.
 */
export class AuditRecorder {
  readonly #deps: RecorderDeps
  readonly #due: DueChanges[] = []
  #pending: AuditEntry[] = []
  #timer: NodeJS.Timeout | undefined
  /** The batch being written, and the one every flush asked for meanwhile waits for. */
  #writing: Promise<void> | undefined
  #next: Promise<void> | undefined
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
      this.flush().catch((error) => this.#deps.log.error({ err: error }, 'writing audit records failed'))
    }, this.#deps.flushMs)
  }

  /**
   * Writes queued records and due changes; resolves once they are committed. Every caller until the batch
   * starts shares it; while one is being written, the next starts when it ends (after a failure too: its
   * records are queued again and retried).
   */
  flush(): Promise<void> {
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

  async #flushOnce(): Promise<void> {
    const entries = this.#pending
    const due = this.#dueChanges().length > 0
    if (entries.length === 0 && !due) return
    this.#pending = []
    try {
      // Decided under the lock, after other nodes' changes: a token ended elsewhere is not written back.
      if (due) await this.#deps.write(() => ({ changes: this.#dueChanges(), audit: entries, result: null }))
      // Records alone need nothing of the Index: the cheapest append, without reading others' changes.
      else await this.#deps.store.appendAudit(entries)
    } catch (error) {
      this.#pending = entries.concat(this.#pending)
      throw error
    }
  }

  /** Checks the audit chain, from genesis or the pruning checkpoint, once queued records are written. */
  async verify(): Promise<AuditVerification> {
    await this.flush()
    return verifyStoredAudit(this.#deps.store)
  }
}
