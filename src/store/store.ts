import { randomBytes } from 'node:crypto'
import { type Kysely, sql, type Transaction } from 'kysely'
import { type AuditEntry, type AuditRow, GENESIS_HASH } from '../audit/chain.js'
import { AuditAppender, SPOOLED } from './audit-appender.js'
import { type AuditCheckpoint, auditCheckpoint, pruneAudit } from './audit-retention-store.js'
import { type BulkOutcome, type BulkPlanner, type BulkProgress, bulkWrite } from './bulk-write.js'
import { BUSY_MS, connect, openSqlite, type Prepare, type StoreKind, statementCache } from './dialects.js'
import { migrateToLatest } from './migrations.js'
import { type OidcPayloadStore, oidcPayloadStore } from './oidc-payload-store.js'
import { oneWriter, takeWriteLock, writeDeadline } from './one-writer.js'
import { insertOutbox, type OutboxMessage } from './outbox.js'
import {
  claimOutbox,
  outboxAttempts,
  outboxMessage,
  pendingOutbox,
  retryOutbox,
  settleOutbox,
} from './outbox-store.js'
import { type ReplayStore, replayStore } from './replay-store.js'
import {
  type Database,
  type OutboxAttemptRow,
  type OutboxRow,
  type ReplicatedRows,
  type ReplicatedTable,
  replicatedTables,
} from './schema.js'
import { type SnapshotSinks, streamPostgresSnapshot, streamSqliteSnapshot } from './snapshot-stream.js'
import { type StatsStore, statsStore } from './stats-store.js'
import { type ThrottleStore, throttleStore } from './throttle-store.js'
import { type UsageDataStore, usageDataStore } from './usage-data-store.js'
import { checkpointInBackground } from './wal-checkpointer.js'
import {
  AUDIT_LOCK_KEY,
  type AuditHead,
  appendAudit,
  appendAuditAlone,
  type ChangeRow,
  changesAfter,
  changesPage,
  insertChanges,
} from './write-statements.js'

/** A change to one replicated row. `row` holds the whole row for `put`, the key columns for `delete`. */
export type PlannedChange = {
  [T in ReplicatedTable]:
    | { tbl: T; op: 'put'; row: ReplicatedRows[T] }
    | { tbl: T; op: 'delete'; row: Partial<ReplicatedRows[T]> }
}[ReplicatedTable]

export type Change = PlannedChange & { revision: number; at: string }

export type Snapshot = { revision: number; rows: { [T in ReplicatedTable]: ReplicatedRows[T][] } }

/** What a write decided, given the changes other processes committed since the caller's revision. */
export interface WritePlan<T> {
  changes: PlannedChange[]
  audit: AuditEntry[]
  /** Messages committed with the change, delivered after it (see notify/outbox-worker.ts). */
  outbox?: OutboxMessage[]
  result: T
}

export interface WriteOutcome<T> {
  result: T
  /** The committed changes, with their revisions, in order. */
  changes: Change[]
  /** The store's revision after this write. */
  revision: number
}

/**
 * The one narrow interface between Custodian and its database. Everything above it is the same for SQLite
 * and PostgreSQL.
 */
export interface Store {
  readonly kind: StoreKind
  readonly location: string
  /** Every replicated row and the revision they stand at, read in one consistent snapshot. */
  loadSnapshot(): Promise<Snapshot>
  /**
   * The same snapshot streamed: each table's rows handed to the sink `sinks` names for it, one at a time
   * (tables without a sink are not read); resolves to the revision the rows stand at.
   */
  streamSnapshot(sinks: SnapshotSinks): Promise<number>
  /** Committed changes after `revision`, oldest first. */
  changesSince(revision: number, limit?: number): Promise<Change[]>
  /**
   * Runs one write under the store's write lock: `plan` receives the changes committed by others since
   * `since`, returns the rows to change and the audit records to append, and all of it commits together.
   * `plan` may throw to abort; nothing is written then. More than PENDING_LIMIT of them: TooFarBehind.
   */
  write<T>(since: number, plan: (pending: Change[]) => WritePlan<T>): Promise<WriteOutcome<T>>
  /**
   * Appends audit records alone: no change, and no change committed by others is read. The cheapest durable
   * append (on PostgreSQL one round trip, where a write takes six), for the batches of decisions.
   */
  appendAudit(entries: readonly AuditEntry[]): Promise<void>
  /** Audit records after `afterSeq`, in order. */
  readAudit(afterSeq: number, limit: number): Promise<AuditRow[]>
  /** The head the store recorded with its last audit append. */
  auditHead(): Promise<{ seq: number; hash: string }>
  /** Leases up to `limit` undelivered messages due at `now` for `leaseMs`; other nodes skip leased ones. */
  claimOutbox(now: string, leaseUntil: string, limit: number): Promise<OutboxRow[]>
  /** Records a delivery, or a failure with the time of the next attempt (null: give up). */
  settleOutbox(
    id: string,
    outcome: { deliveredAt: string } | { error: string; nextAttemptAt: string | null },
  ): Promise<void>
  /** Every failed attempt to deliver a message, in order. */
  outboxAttempts(id: string): Promise<OutboxAttemptRow[]>
  /** Undelivered messages, oldest first (for operators and tests). */
  pendingOutbox(limit: number): Promise<OutboxRow[]>
  /** One message, delivered or not. */
  outboxMessage(id: string): Promise<OutboxRow | undefined>
  /** Makes an undelivered message no newer one took the place of due at `now`: whether it did (outbox-store.ts). */
  retryOutbox(id: string, now: string): Promise<boolean>
  /** A random secret made once per store and shared by every node (cookie signing keys, say). */
  sharedSecret(name: string): Promise<string>
  /** A value made once per store by `make` and shared by every node (a development signing key, say). */
  sharedValue(key: string, make: () => string | Promise<string>): Promise<string>
  /** oidc-provider's records, one table keyed by (model, id). */
  readonly oidc: OidcPayloadStore
  /** Published Green Button data. */
  readonly usage: UsageDataStore
  /** Login throttling counts, shared by every node. */
  readonly throttle: ThrottleStore
  /** JWT ids of accepted signed evidence, against replays. */
  readonly replay: ReplayStore
  readonly stats: StatsStore // the change log's head and the outbox's depth, for metrics
  /** Calls `listener` when another process announces a new revision (PostgreSQL NOTIFY); else never. */
  subscribe(listener: () => void, onError: (error: Error) => void): Promise<() => Promise<void>>
  /** One trivial query: resolves when the store answers. */
  ping(): Promise<void>
  /** This process serves requests until close: WAL checkpoints off the event loop, imports give way to it. */
  serving(onError: (error: Error) => void): Promise<void>
  close(): Promise<void>
  /** Where the audit log was last pruned to, if it ever was (see audit-retention-store.ts). */
  auditCheckpoint(): Promise<AuditCheckpoint | undefined>
  /** Removes up to `limit` of the oldest audit records written before `before`, moving the checkpoint. */
  pruneAudit(
    before: string,
    limit: number,
    now: string,
  ): Promise<{ pruned: number; checkpoint: AuditCheckpoint | undefined }>
  /**
   * Many rows with their change and audit records, in one transaction under the write lock (bulk-write.ts).
   * As write, TooFarBehind when more than PENDING_LIMIT changes were committed since `since`.
   */
  bulkWrite<T>(since: number, plan: BulkPlanner<T, Change>, progress?: BulkProgress): Promise<BulkOutcome<T>>
}

const NOTIFY_CHANNEL = 'custodian_changes'
export const WRITE_LOCK_KEY = 0x63757374 // 'cust': one advisory lock serialises writers, so revisions commit in order

const keyOf = (tbl: ReplicatedTable) => replicatedTables[tbl] as readonly string[]

// Generic row operations go through an untyped view: the table is chosen at run time.
// biome-ignore lint/suspicious/noExplicitAny: the table name is dynamic
type Loose = Kysely<any> | Transaction<any>

async function applyChange(trx: Loose, change: PlannedChange): Promise<void> {
  const keys = keyOf(change.tbl)
  const row = change.row as Record<string, unknown>
  if (change.op === 'put') {
    const rest = Object.keys(row).filter((column) => !keys.includes(column))
    await trx
      .insertInto(change.tbl)
      .values(row)
      .onConflict((oc) => {
        const target = oc.columns(keys as string[])
        return rest.length === 0
          ? target.doNothing()
          : target.doUpdateSet(Object.fromEntries(rest.map((c) => [c, row[c]])))
      })
      .execute()
  } else {
    let query = trx.deleteFrom(change.tbl)
    for (const key of keys) query = query.where(key, '=', row[key])
    await query.execute()
  }
}

const toChange = (row: ChangeRow): Change =>
  ({
    revision: Number(row.revision),
    at: row.at,
    tbl: row.tbl,
    op: row.op,
    row: JSON.parse(row.row),
  }) as Change

class KyselyStore implements Store {
  readonly kind: StoreKind
  readonly location: string
  readonly #db: Kysely<Database>
  readonly #connectListener: (() => Promise<import('pg').Client>) | undefined
  /** SQLite's kept statements, run on the connection the current transaction holds; undefined on PostgreSQL. */
  readonly #prepare: Prepare | undefined
  readonly #sqlite: ReturnType<typeof connect>['sqlite']
  /** Transactions that take the write lock, in turn (one-writer.ts). */
  readonly #inTurn: ReturnType<typeof oneWriter>
  /** The audit log's head as this node last wrote it: where its next append alone chains from (PostgreSQL). */
  #auditHead: AuditHead = { seq: 0, hash: GENESIS_HASH }

  constructor(connection: ReturnType<typeof connect>) {
    this.kind = connection.kind
    this.location = connection.location
    this.#db = connection.db
    this.#connectListener = connection.connectListener
    this.#prepare = connection.prepare
    this.usage = usageDataStore(
      this.#db,
      this.kind,
      connection.sqlite && connection.prepare
        ? { sqlite: connection.sqlite, prepare: connection.prepare }
        : undefined,
    )
    this.#sqlite = connection.sqlite
    this.#inTurn = oneWriter(connection.kind)
    this.throttle = throttleStore(this.#db, this.kind, connection.sqlite)
    this.replay = replayStore(this.#db)
    this.oidc = oidcPayloadStore(this.#db)
    this.stats = statsStore(this.#db)
  }

  readonly usage: UsageDataStore
  readonly throttle: ThrottleStore
  readonly replay: ReplayStore
  readonly oidc: OidcPayloadStore
  readonly stats: StatsStore

  async loadSnapshot(): Promise<Snapshot> {
    const rows = {} as Record<ReplicatedTable, unknown[]>
    const revision = await this.streamSnapshot((tbl) => {
      const list: unknown[] = []
      rows[tbl] = list
      return (row) => list.push(row)
    })
    return { revision, rows } as Snapshot
  }

  async streamSnapshot(sinks: SnapshotSinks): Promise<number> {
    return this.kind === 'postgres'
      ? streamPostgresSnapshot(this.#db, sinks)
      : streamSqliteSnapshot(this.location, sinks)
  }

  async changesSince(revision: number, limit = 10_000): Promise<Change[]> {
    // A serving SQLite node reads on its own feed connection; otherwise through the pool (Kysely's SQLite path).
    return (await changesPage(this.#db, this.#feed?.prepare, revision, limit)).map(toChange)
  }

  async write<T>(since: number, plan: (pending: Change[]) => WritePlan<T>): Promise<WriteOutcome<T>> {
    let auditHead: AuditHead | undefined
    const deadline = writeDeadline()
    const outcome = await this.#inTurn(() =>
      this.#db.transaction().execute(async (trx) => {
        await this.#writeLock(trx, deadline)
        const pending = (await changesAfter(trx, this.#prepare, since)).map(toChange)
        const { changes, audit, result, outbox = [] } = plan(pending)
        // Nothing was committed after `since`, and a pure audit append numbers no change: no need to look.
        const head = pending.at(-1)?.revision ?? (changes.length > 0 ? await this.#maxRevision(trx) : since)
        const at = new Date().toISOString()
        const committed = changes.map((change, i) => ({ ...change, revision: head + i + 1, at }) as Change)
        for (const change of committed) await applyChange(trx as Loose, change)
        await insertChanges(trx, committed)
        if (audit.length > 0) auditHead = await appendAudit(trx, this.#prepare, audit)
        await insertOutbox(trx, outbox, at)
        const revision = committed.at(-1)?.revision ?? head
        if (this.kind === 'postgres' && committed.length > 0) {
          await sql`select pg_notify(${NOTIFY_CHANNEL}, ${String(revision)})`.execute(trx)
        }
        return { result, changes: committed, revision }
      }),
    )
    if (auditHead) this.#auditHead = auditHead
    return outcome
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return
    const alone = this.#appender
      ? await this.#appender.append(entries)
      : this.kind === 'postgres'
        ? await appendAuditAlone(this.#db, AUDIT_LOCK_KEY, entries, this.#auditHead)
        : undefined // SQLite's statements are local calls: an append alone costs its transaction, as a write does
    if (alone === SPOOLED) return // committed to the spool; chained into the log once the lock is free
    if (alone) {
      this.#auditHead = alone
      return
    }
    // The audit log's own lock (appendAudit takes it), not the write lock: a long write must not hold it up.
    const head = await this.#db.transaction().execute((trx) => appendAudit(trx, this.#prepare, entries))
    if (head) this.#auditHead = head
  }

  /** The write lock in `trx`: PostgreSQL's advisory lock, until `deadline` if given; SQLite's is BEGIN IMMEDIATE. */
  async #writeLock(trx: Transaction<Database>, deadline?: number): Promise<void> {
    if (this.kind === 'postgres') await takeWriteLock(trx, WRITE_LOCK_KEY, deadline)
  }

  async #maxRevision(trx: Transaction<Database>): Promise<number> {
    const row = await trx
      .selectFrom('changes')
      .select((eb) => eb.fn.max('revision').as('revision'))
      .executeTakeFirst()
    return Number(row?.revision ?? 0)
  }

  sharedSecret(name: string): Promise<string> {
    return this.sharedValue(`secret:${name}`, () => randomBytes(32).toString('base64url'))
  }

  async sharedValue(key: string, make: () => string | Promise<string>): Promise<string> {
    const existing = await this.#db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst()
    if (existing) return existing.value
    // Two nodes may both make one; the first stored wins and both return it.
    await this.#db
      .insertInto('meta')
      .values({ key, value: await make() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute()
    const row = await this.#db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirstOrThrow()
    return row.value
  }

  claimOutbox(now: string, leaseUntil: string, limit: number): Promise<OutboxRow[]> {
    return this.#inTurn(() =>
      claimOutbox(this.#db, (trx) => this.#writeLock(trx), { now, leaseUntil, limit }),
    )
  }

  settleOutbox(
    id: string,
    outcome: { deliveredAt: string } | { error: string; nextAttemptAt: string | null },
  ): Promise<void> {
    return settleOutbox(this.#db, id, outcome)
  }

  outboxAttempts(id: string) {
    return outboxAttempts(this.#db, id)
  }
  pendingOutbox(limit: number) {
    return pendingOutbox(this.#db, limit)
  }
  outboxMessage(id: string) {
    return outboxMessage(this.#db, id)
  }
  retryOutbox(id: string, now: string) {
    return retryOutbox(this.#db, id, now)
  }

  async readAudit(afterSeq: number, limit: number): Promise<AuditRow[]> {
    const rows = await this.#db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute()
    return rows.map((row) => ({ ...row, seq: Number(row.seq) }))
  }

  async auditHead(): Promise<{ seq: number; hash: string }> {
    const row = await this.#db
      .selectFrom('meta')
      .select('value')
      .where('key', '=', 'audit_head')
      .executeTakeFirst()
    return row ? (JSON.parse(row.value) as { seq: number; hash: string }) : { seq: 0, hash: GENESIS_HASH }
  }

  async subscribe(listener: () => void, onError: (error: Error) => void): Promise<() => Promise<void>> {
    if (!this.#connectListener) return async () => {}
    const client = await this.#connectListener()
    let ending = false
    client.on('notification', (message) => {
      if (message.channel === NOTIFY_CHANNEL) listener()
    })
    // A dropped connection (a database restart) ends the subscription: the caller listens again.
    client.on('error', (error) => {
      if (!ending) onError(error)
    })
    client.on('end', () => {
      if (!ending) onError(new Error('the connection listening for changes ended'))
    })
    const end = async () => {
      ending = true
      await client.end().catch(() => {})
    }
    try {
      await client.query(`LISTEN ${NOTIFY_CHANNEL}`)
    } catch (error) {
      await end()
      throw error
    }
    return end
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db)
  }

  #stopCheckpointer: (() => Promise<void>) | undefined
  #stopServing: (() => Promise<void>) | undefined
  /** A serving SQLite node's appends of records alone, off the event loop. */
  #appender: AuditAppender | undefined
  /**
   * A serving SQLite node's connection for reading the change log: a write waiting for the lock (held by an
   * import for minutes) holds the other connection, and the node would go stale behind it.
   */
  #feed: { prepare: Prepare; close: () => void } | undefined

  async serving(onError: (error: Error) => void): Promise<void> {
    if (this.#sqlite && !this.#stopCheckpointer) {
      this.#stopCheckpointer = checkpointInBackground(this.#sqlite, this.location, onError)
      this.#appender = new AuditAppender(this.location)
      const feed = openSqlite(this.location, BUSY_MS)
      this.#feed = { prepare: statementCache(feed), close: () => feed.close() }
    }
    this.#stopServing ??= await this.usage.announceServing()
  }

  async close(): Promise<void> {
    await this.#stopCheckpointer?.()
    await this.#appender?.stop()
    this.#feed?.close()
    await this.#stopServing?.().catch(() => {}) // the store is away: this process will be dead soon anyway

    await this.#db.destroy()
  }

  auditCheckpoint(): Promise<AuditCheckpoint | undefined> {
    return auditCheckpoint(this.#db)
  }

  pruneAudit(before: string, limit: number, now: string) {
    return pruneAudit(this.#db, this.kind, before, limit, now)
  }

  bulkWrite<T>(
    since: number,
    plan: BulkPlanner<T, Change>,
    progress?: BulkProgress,
  ): Promise<BulkOutcome<T>> {
    const postgres = this.kind === 'postgres'
    return this.#inTurn(() =>
      bulkWrite(
        {
          db: this.#db,
          sqlite: this.#sqlite,
          lock: (trx) => this.#writeLock(trx),
          maxRevision: (trx) => this.#maxRevision(trx),
          toChange,
          appendAudit: async (trx, entries) => {
            await appendAudit(trx, this.#prepare, entries)
          },
          announce: async (trx, revision) => {
            if (postgres) await sql`select pg_notify(${NOTIFY_CHANNEL}, ${String(revision)})`.execute(trx)
          },
        },
        since,
        plan,
        progress,
      ),
    )
  }
}

/** Opens the store at `target` (file path or postgres:// URL) and brings its schema up to date. */
export async function openStore(target: string): Promise<Store> {
  const connection = connect(target)
  try {
    await migrateToLatest(connection.db as unknown as Kysely<unknown>, connection.location, connection.kind)
  } catch (error) {
    await connection.db.destroy()
    throw error
  }
  const store = new KyselyStore(connection)
  // An import whose process died is finished (if it had committed) or dropped (if not) by the next to open.
  await store.usage.recoverImports()
  return store
}
