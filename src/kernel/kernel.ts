import type { AuditEntry } from '../audit/chain.js'
import { type Config, defaultConfig } from '../config.js'
import { CustodianError } from '../errors.js'
import { createLogger, type Logger } from '../logger.js'
import type { ReplicatedTable } from '../store/schema.js'
import type { JoinedSink, RowSink, SnapshotSinks } from '../store/snapshot-stream.js'
import { type Change, openStore, type Store, type WriteOutcome, type WritePlan } from '../store/store.js'
import { TooFarBehind } from '../store/write-statements.js'
import { AuditRecorder, type DueChanges } from './audit-recorder.js'
import type { AuditVerification } from './audit-retention.js'
import { ChangeFollower } from './change-follower.js'
import { Metrics } from './metrics.js'
import type { Index, Projection, ProjectionKinds, SnapshotLoader } from './projections.js'
import { type ChangeResult, changeResult, type Plan, writePlan } from './write-plan.js'

export interface NodeOptions {
  /** SQLite file path or postgres:// URL; defaults to config.db. */
  db?: string
  config?: Partial<Config>
  logger?: Logger
  /** Milliseconds since the epoch; tests move time with it. */
  clock?: () => number
  /** Follow the change log written by other processes (default true). */
  follow?: boolean
  /**
   * Build the Index (default true). A command that reads the store only (the audit log, say) does without:
   * it then opens at once, whatever the number of users, and reading the Index is an error.
   */
  index?: boolean
}

/** Changes a catch-up reads at a time, and how many it holds before applying them (see catchUp). */
const CHANGE_PAGE = 10_000
const HELD_CHANGES = 100_000
/** Catch-ups a write tries before answering that this node is too far behind to write (TooFarBehind). */
const BEHIND_ATTEMPTS = 3

/** Why a node holding part of a write is not fresh (Kernel.catchingUp), as the 503 and readiness say it. */
export const CATCHING_UP = `this node is reading a write of more than ${HELD_CHANGES.toLocaleString('en')} changes (a bulk import, say): until it has read all of it, its answers could mix the store before and after that write`

/** Plans a change for `actor` against the Index caught up under the write lock, at time `now`. */
export type Planner = (index: Index, now: string, actor: string) => Plan

/**
 * The kernel of one Custodian node, knowing no domain: the store, the Index of the projections domains
 * registered (built from a snapshot, kept fresh from the change log), the write path and the audit recorder.
 */
export class Kernel {
  readonly config: Config
  readonly log: Logger
  readonly store: Store
  /** This node's counters and gauges, in its own registry (served at /metrics). */
  readonly metrics = new Metrics()
  readonly #index: Index | undefined
  readonly #projections: Projection[]
  readonly #clock: () => number
  readonly #recorder: AuditRecorder
  #revision: number
  #catchingUp: Promise<number> | undefined
  readonly #timers: NodeJS.Timeout[] = []
  #follower: ChangeFollower | undefined
  /** When this node last read or wrote the store successfully (real time, whatever the clock option says). */
  #lastSyncMs = Date.now()
  /**
   * True while the Index holds part of a write: a catch-up read a full page of changes, which may end inside
   * a write (a bulk import is one write of millions), and has not read the rest. Answers meanwhile could
   * mix the store before and after that write, a state no write committed: the node is not fresh.
   */
  #partial = false
  #closed = false

  private constructor(
    store: Store,
    registered: { index: Index | undefined; list: Projection[] },
    revision: number,
    config: Config,
    options: NodeOptions,
  ) {
    this.config = config
    this.log = options.logger ?? createLogger(config.logLevel)
    this.store = store
    this.#index = registered.index
    this.#projections = registered.list
    this.#revision = revision
    this.#clock = options.clock ?? Date.now
    this.#recorder = new AuditRecorder({
      store,
      log: this.log,
      flushMs: this.config.auditFlushMs,
      now: () => this.now(),
      write: (decide) => this.write(decide),
    })
    this.metrics.watch(this)
  }

  /**
   * Opens the store and builds every kind of projection from one snapshot, streamed row by row into all of
   * them at once; follows the change log unless told not to.
   */
  static async open(options: NodeOptions, kinds: ProjectionKinds): Promise<Kernel> {
    const config = { ...defaultConfig(), ...options.config }
    const store = await openStore(options.db ?? config.db)
    const names = options.index === false ? [] : (Object.keys(kinds) as (keyof Index)[])
    const loaders = names.map((name) => kinds[name].loader() as SnapshotLoader<Projection>)
    const revision = await store.streamSnapshot(snapshotSinks(loaders))
    const index: Partial<Index> = {}
    const list = names.map((name, i) =>
      enter(index, name, (loaders[i] as SnapshotLoader<Projection>).finish(revision)),
    )
    // Complete: ProjectionKinds has a kind for every member of the Index.
    const built = options.index === false ? undefined : (index as Index)
    const kernel = new Kernel(store, { index: built, list }, revision, config, options)
    if (options.follow !== false) {
      kernel.#follower = new ChangeFollower({
        store,
        log: kernel.log,
        pollMs: config.changePollMs,
        catchUp: () => kernel.catchUp(),
      })
      await kernel.#follower.start()
    }
    return kernel
  }

  /** The Index: every registered projection by name (see projections.ts). */
  get projections(): Index {
    // A programming error, not the caller's: the command opened its node with `index: false`.
    if (!this.#index) throw new Error('this node was opened without its Index (NodeOptions.index)')
    return this.#index
  }

  /** Where third parties and customers reach this server; `serve` fills it in when not configured. */
  get publicUrl(): string {
    return (this.config.publicUrl || `http://${this.config.host}:${this.config.port}`).replace(/\/$/, '')
  }

  /** The revision of the change log the Index has reached. */
  get revision(): number {
    return this.#revision
  }

  /** True once `close` has begun: write-backs then write everything, not just what is due. */
  get closing(): boolean {
    return this.#closed
  }

  now(): number {
    return this.#clock()
  }

  /** Every projection sees every committed change, in order. */
  #apply(changes: readonly Change[]): void {
    for (const projection of this.#projections) projection.apply(changes)
    for (const change of changes) this.#revision = Math.max(this.#revision, change.revision)
  }

  // --- the change feed ---------------------------------------------------------------------------------

  /**
   * Milliseconds since this node last read or wrote the store: how out of date its Index may be. Always 0 for
   * a node that does not follow the change log (a CLI command, which reads the store as it opens).
   */
  get staleness(): number {
    return this.#follower ? Math.max(0, Date.now() - this.#lastSyncMs) : 0
  }

  /**
   * Whether decisions from the Index may be given: it holds no part of a write, and its last confirmed sync
   * is within maxStaleness.
   */
  get fresh(): boolean {
    return !this.#partial && this.staleness <= this.config.maxStaleness * 1000
  }

  /** True while the Index holds part of a write, read by a catch-up that has not read the rest yet. */
  get catchingUp(): boolean {
    return this.#partial
  }

  /** Runs `task` every `ms` until the node closes; a failure is logged as `what` failed, and retried next time. */
  every(ms: number, what: string, task: () => Promise<unknown>): void {
    const run = () => {
      task().catch((error) => this.log.warn({ err: error }, `${what} failed`))
    }
    this.#timers.push(setInterval(run, ms).unref())
  }

  /** Applies every change committed since the Index's revision; resolves to the new revision. */
  catchUp(): Promise<number> {
    this.#catchingUp ??= (async () => {
      try {
        for (;;) {
          // Full pages are held, up to HELD_CHANGES, and applied with the page that ends them: a page short of
          // full ends where the store's committed changes did, at the end of a write, so a write of that size
          // or less reaches the Index whole. A larger one is applied as it comes, and the node is not fresh
          // until it has read the rest.
          const pages: Change[][] = []
          let held = 0
          let page: Change[]
          do {
            const after = pages.at(-1)?.at(-1)?.revision ?? this.#revision
            page = await this.store.changesSince(after, CHANGE_PAGE)
            pages.push(page)
            held += page.length
            // A SQLite read is synchronous: between pages, the requests that came meanwhile are answered.
            if (page.length === CHANGE_PAGE) await new Promise((resolve) => setImmediate(resolve))
          } while (page.length === CHANGE_PAGE && held < HELD_CHANGES)
          if (held === 0) {
            this.#partial = false
            this.#lastSyncMs = Date.now()
            return this.#revision
          }
          for (const read of pages) this.#apply(read)
          this.#partial = page.length === CHANGE_PAGE
        }
      } finally {
        this.#catchingUp = undefined
      }
    })()
    return this.#catchingUp
  }

  /** Waits until the Index has reached `revision` (a caller's own earlier write, say). */
  async atLeast(revision: number): Promise<void> {
    if (this.#revision >= revision) return
    await this.catchUp()
    // The read awaited may have begun before the caller's write committed; one more begins after it.
    if (this.#revision < revision) await this.catchUp()
    if (this.#revision < revision) {
      throw new CustodianError(
        'Validation',
        `revision ${revision} has not been written yet; the store is at revision ${this.#revision}`,
      )
    }
  }

  // --- the write path ----------------------------------------------------------------------------------

  /**
   * One write under the store's lock: the Index first catches up with what other nodes committed, `decide`
   * reads it and says what to write, and the committed changes reach every projection. A node too far behind
   * to read the rest under the lock (TooFarBehind: a bulk import committed meanwhile) catches up outside it,
   * a page at a time, and tries again.
   */
  async write<T>(decide: () => WritePlan<T>): Promise<WriteOutcome<T>> {
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.store.write(this.#revision, (pending) => {
          this.#apply(pending)
          return decide()
        })
        this.#apply(outcome.changes)
        this.#partial = false // every change to this write's own was read under the lock
        this.#lastSyncMs = Date.now()
        return outcome
      } catch (error) {
        // Others kept committing more than a lock's worth between catch-up and lock: a 503, try again later.
        if (!(error instanceof TooFarBehind) || attempt === BEHIND_ATTEMPTS) throw error
        await this.catchUp()
      }
    }
  }

  /**
   * Commits a planned change with its audit record: `who` names the actor under the lock (and may refuse),
   * then `plan` decides against the caught-up Index.
   */
  async commit(who: () => string, action: string, resource: string, plan: Planner): Promise<ChangeResult> {
    const outcome = await this.write(() => {
      const actor = who()
      const at = new Date(this.now()).toISOString()
      return writePlan(plan(this.projections, at, actor), { at, actor, action, resource })
    })
    return changeResult(outcome)
  }

  // --- the audit recorder ------------------------------------------------------------------------------

  /** Queues an audit record; decisions are written in batches within `auditFlushMs`. */
  audit(entry: Omit<AuditEntry, 'at'>): void {
    this.#recorder.record(entry)
  }

  /** Registers changes a domain writes back lazily, with the next batch of audit records. */
  writeBackWith(due: DueChanges): void {
    this.#recorder.writeBackWith(due)
  }

  /** Asks for the next batch soon, though no record is queued (a write-back is due). */
  scheduleFlush(): void {
    this.#recorder.scheduleFlush()
  }

  /** Writes queued audit records and write-backs now; resolves once they are committed. */
  flush(): Promise<void> {
    return this.#recorder.flush()
  }

  /**
   * Writes queued audit records now; resolves once they are committed, not waiting for write-backs (which
   * wait for the write lock): what a decision awaits before its answer.
   */
  flushAudit(): Promise<void> {
    return this.#recorder.flushAudit()
  }

  /** Checks the audit chain, from genesis or the pruning checkpoint, to the recorded head. */
  verifyAudit(): Promise<AuditVerification> {
    return this.#recorder.verify()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const timer of this.#timers) clearInterval(timer)
    this.#recorder.stop()
    await this.#follower?.stop()
    await this.flush().catch((error) =>
      this.log.error({ err: error }, 'writing the last audit records failed'),
    )
    await this.store.close()
  }
}

/**
 * Where the rows of each table go: to the one projection that reads them, or to every one that does. A table
 * that one projection alone reads, joined with tables it alone reads too, comes joined (JoinedSink); the
 * store then reads those tables with it, not on their own.
 */
function snapshotSinks(loaders: readonly SnapshotLoader<Projection>[]): SnapshotSinks {
  const readers = <T extends ReplicatedTable>(tbl: T) =>
    loaders.flatMap((loader) => {
      const sink = loader.rows(tbl)
      return sink ? [{ loader, sink }] : []
    })
  return <T extends ReplicatedTable>(tbl: T): RowSink<T> | JoinedSink | undefined => {
    const found = readers(tbl)
    const only = found.length === 1 ? found[0]?.loader : undefined
    const joined = only?.joined?.(tbl)
    if (joined?.children.every(({ tbl: child }) => readers(child).every((r) => r.loader === only)))
      return joined
    const sinks = found.map((r) => r.sink)
    if (sinks.length <= 1) return sinks[0]
    return (row) => {
      for (const sink of sinks) sink(row)
    }
  }
}

/** Enters a built projection in the Index under its name. */
function enter<K extends keyof Index>(index: Partial<Index>, name: K, projection: Projection): Projection {
  // The loader of `name` built it, so it is that member's type.
  index[name] = projection as Index[K]
  return projection
}
