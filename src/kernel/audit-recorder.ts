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
 * The audit recorder: queues records and writes them in batches within `flushMs` (group commit), together
 * with the changes domains registered to write back lazily. A caller that needs its record durable awaits
 * `flush()`.
 */
export class AuditRecorder {
  readonly #deps: RecorderDeps
  readonly #due: DueChanges[] = []
  #pending: AuditEntry[] = []
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()
  #stopped = false

  constructor(deps: RecorderDeps) {
    this.#deps = deps
  }

  /** Registers changes to write back with every batch; each call decides afresh what is due. */
  writeBackWith(due: DueChanges): void {
    this.#due.push(due)
  }

  /** Queues an audit record; records are written in batches within `flushMs`. */
  record(entry: Omit<AuditEntry, 'at'>): void {
    this.#pending.push({ at: new Date(this.#deps.now()).toISOString(), ...entry })
    this.scheduleFlush()
  }

  /** Asks for a batch within `flushMs` (there is something to write back, say); no-op once one is due. */
  scheduleFlush(): void {
    if (this.#timer || this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.flush().catch((error) => this.#deps.log.error({ err: error }, 'writing audit records failed'))
    }, this.#deps.flushMs)
  }

  /** Writes queued records and due changes now; resolves once they are committed. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(
      () => this.#flushOnce(),
      () => this.#flushOnce(),
    )
    return this.#flushing
  }

  /** No more scheduled batches: the node is closing and flushes once more itself. */
  stop(): void {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
  }

  #dueChanges(): PlannedChange[] {
    return this.#due.flatMap((due) => due())
  }

  async #flushOnce(): Promise<void> {
    const entries = this.#pending
    if (entries.length === 0 && this.#dueChanges().length === 0) return
    this.#pending = []
    try {
      // Decided under the lock, after other nodes' changes: a token ended elsewhere is not written back.
      await this.#deps.write(() => ({ changes: this.#dueChanges(), audit: entries, result: null }))
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
