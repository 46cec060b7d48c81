import { randomBytes } from 'node:crypto'
import { type Kysely, sql, type Transaction } from 'kysely'
import { type AuditEntry, type AuditRow, chainAuditEntries, GENESIS_HASH } from '../audit/chain.js'
import { type BulkOutcome, type BulkPlanner, type BulkProgress, bulkWrite } from './bulk-write.js'
import { connect, type StoreKind } from './dialects.js'
import { migrateToLatest } from './migrations.js'
import { insertOutbox, type OutboxMessage, PARKED } from './outbox.js'
import { type ReplayStore, replayStore } from './replay-store.js'
import {
  type Database,
  type OidcPayloadRow,
  type OutboxRow,
  type ReplicatedRows,
  type ReplicatedTable,
  replicatedTables,
} from './schema.js'
import { type ThrottleStore, throttleStore } from './throttle-store.js'
import { type UsageDataStore, usageDataStore } from './usage-data-store.js'

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
  /** Committed changes after `revision`, oldest first. */
  changesSince(revision: number, limit?: number): Promise<Change[]>
  /**
   * Runs one write under the store's write lock: `plan` receives the changes committed by others since
   * `since`, returns the rows to change and the audit records to append, and all of it commits together.
   * `plan` may throw to abort; nothing is written then.
   */
  write<T>(since: number, plan: (pending: Change[]) => WritePlan<T>): Promise<WriteOutcome<T>>
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
  /** Undelivered messages, oldest first (for operators and tests). */
  pendingOutbox(limit: number): Promise<OutboxRow[]>
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
  /** Calls `listener` when another process announces a new revision (PostgreSQL NOTIFY); else never. */
  subscribe(listener: () => void, onError: (error: Error) => void): Promise<() => Promise<void>>
  close(): Promise<void>
  /** Many rows with their change and audit records, in one transaction under the write lock (bulk-write.ts). */
  bulkWrite<T>(since: number, plan: BulkPlanner<T, Change>, progress?: BulkProgress): Promise<BulkOutcome<T>>
}

/** What the OAuth adapter needs of the store (see oauth/adapter.ts). */
export interface OidcPayloadStore {
  upsert(row: OidcPayloadRow): Promise<void>
  find(model: string, id: string, nowMs: number): Promise<OidcPayloadRow | undefined>
  findByUid(model: string, uid: string, nowMs: number): Promise<OidcPayloadRow | undefined>
  /** Marks a row consumed; false when it already was (a reuse, or a lost race). */
  consume(model: string, id: string, nowMs: number): Promise<boolean>
  destroy(model: string, id: string): Promise<void>
  /** Deletes the rows of a grant: of one model, or (model undefined) of every model and the grant itself. */
  revokeByGrantId(model: string | undefined, grantId: string): Promise<void>
  deleteExpired(nowMs: number): Promise<number>
}

const NOTIFY_CHANNEL = 'custodian_changes'
const WRITE_LOCK_KEY = 0x63757374 // 'cust': one advisory lock serialises writers, so revisions commit in order

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

const toChange = (row: { revision: number; at: string; tbl: string; op: string; row: string }): Change =>
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
  readonly #connection: ReturnType<typeof connect>

  constructor(connection: ReturnType<typeof connect>) {
    this.kind = connection.kind
    this.location = connection.location
    this.#db = connection.db
    this.#connectListener = connection.connectListener
    this.#connection = connection
    this.usage = usageDataStore(this.#db, this.kind, insertOutbox)
    this.throttle = throttleStore(this.#db, this.kind)
    this.replay = replayStore(this.#db)
  }

  readonly usage: UsageDataStore
  readonly throttle: ThrottleStore
  readonly replay: ReplayStore

  async loadSnapshot(): Promise<Snapshot> {
    let tx = this.#db.transaction().setAccessMode('read only')
    if (this.kind === 'postgres') tx = tx.setIsolationLevel('repeatable read')
    return tx.execute(async (trx) => {
      const head = await trx
        .selectFrom('changes')
        .select((eb) => eb.fn.max('revision').as('revision'))
        .executeTakeFirst()
      const rows = {} as Record<ReplicatedTable, unknown[]>
      for (const tbl of Object.keys(replicatedTables) as ReplicatedTable[]) {
        rows[tbl] = await trx.selectFrom(tbl).selectAll().execute()
      }
      return { revision: Number(head?.revision ?? 0), rows } as Snapshot
    })
  }

  async changesSince(revision: number, limit = 10_000): Promise<Change[]> {
    const rows = await this.#db
      .selectFrom('changes')
      .selectAll()
      .where('revision', '>', revision)
      .orderBy('revision')
      .limit(limit)
      .execute()
    return rows.map(toChange)
  }

  async write<T>(since: number, plan: (pending: Change[]) => WritePlan<T>): Promise<WriteOutcome<T>> {
    return this.#db.transaction().execute(async (trx) => {
      if (this.kind === 'postgres') await sql`select pg_advisory_xact_lock(${WRITE_LOCK_KEY})`.execute(trx)
      const pendingRows = await trx
        .selectFrom('changes')
        .selectAll()
        .where('revision', '>', since)
        .orderBy('revision')
        .execute()
      const pending = pendingRows.map(toChange)
      const head = pending.at(-1)?.revision ?? (await this.#maxRevision(trx))
      const { changes, audit, result, outbox = [] } = plan(pending)
      const at = new Date().toISOString()
      const committed = changes.map((change, i) => ({ ...change, revision: head + i + 1, at }) as Change)
      for (const change of committed) await applyChange(trx as Loose, change)
      for (let i = 0; i < committed.length; i += 200) {
        const batch = committed.slice(i, i + 200)
        await trx
          .insertInto('changes')
          .values(
            batch.map((c) => ({
              revision: c.revision,
              at: c.at,
              tbl: c.tbl,
              op: c.op,
              row: JSON.stringify(c.row),
            })),
          )
          .execute()
      }
      if (audit.length > 0) await this.#appendAudit(trx, audit)
      await insertOutbox(trx, outbox, at)
      const revision = committed.at(-1)?.revision ?? head
      if (this.kind === 'postgres' && committed.length > 0) {
        await sql`select pg_notify(${NOTIFY_CHANNEL}, ${String(revision)})`.execute(trx)
      }
      return { result, changes: committed, revision }
    })
  }

  async #maxRevision(trx: Transaction<Database>): Promise<number> {
    const row = await trx
      .selectFrom('changes')
      .select((eb) => eb.fn.max('revision').as('revision'))
      .executeTakeFirst()
    return Number(row?.revision ?? 0)
  }

  async #appendAudit(trx: Transaction<Database>, entries: AuditEntry[]): Promise<void> {
    const last = await trx
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst()
    const rows = chainAuditEntries(
      entries,
      last ? { seq: Number(last.seq), hash: last.hash } : { seq: 0, hash: GENESIS_HASH },
    )
    for (let i = 0; i < rows.length; i += 200) {
      await trx
        .insertInto('audit_log')
        .values(rows.slice(i, i + 200))
        .execute()
    }
    const head = rows.at(-1)
    if (head) {
      const value = JSON.stringify({ seq: head.seq, hash: head.hash })
      await trx
        .insertInto('meta')
        .values({ key: 'audit_head', value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute()
    }
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

  readonly oidc: OidcPayloadStore = {
    upsert: async (row) => {
      const { model, id, ...rest } = row
      await this.#db
        .insertInto('oidc_payloads')
        .values(row)
        .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(rest))
        .execute()
    },
    find: (model, id, nowMs) => this.#unexpiredOidcRow(model, 'id', id, nowMs),
    findByUid: (model, uid, nowMs) => this.#unexpiredOidcRow(model, 'uid', uid, nowMs),
    consume: async (model, id, nowMs) => {
      const result = await this.#db
        .updateTable('oidc_payloads')
        .set({ consumed_at: nowMs })
        .where('model', '=', model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst()
      return Number(result.numUpdatedRows) > 0
    },
    destroy: async (model, id) => {
      await this.#db.deleteFrom('oidc_payloads').where('model', '=', model).where('id', '=', id).execute()
    },
    revokeByGrantId: async (model, grantId) => {
      let query = this.#db.deleteFrom('oidc_payloads').where('grant_id', '=', grantId)
      if (model !== undefined) query = query.where('model', '=', model)
      await query.execute()
      if (model === undefined) {
        await this.#db
          .deleteFrom('oidc_payloads')
          .where('model', '=', 'Grant')
          .where('id', '=', grantId)
          .execute()
      }
    },
    deleteExpired: async (nowMs) => {
      const result = await this.#db
        .deleteFrom('oidc_payloads')
        .where('expires_at', '<', nowMs)
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }

  /** A payload of the model by its id or uid, unless it has expired; its times as numbers. */
  async #unexpiredOidcRow(
    model: string,
    column: 'id' | 'uid',
    value: string,
    nowMs: number,
  ): Promise<OidcPayloadRow | undefined> {
    const row = await this.#db
      .selectFrom('oidc_payloads')
      .selectAll()
      .where('model', '=', model)
      .where(column, '=', value)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', nowMs)]))
      .executeTakeFirst()
    if (!row) return undefined
    return {
      ...row,
      expires_at: row.expires_at === null ? null : Number(row.expires_at),
      consumed_at: row.consumed_at === null ? null : Number(row.consumed_at),
    }
  }

  async claimOutbox(now: string, leaseUntil: string, limit: number): Promise<OutboxRow[]> {
    return this.#db.transaction().execute(async (trx) => {
      if (this.kind === 'postgres') await sql`select pg_advisory_xact_lock(${WRITE_LOCK_KEY})`.execute(trx)
      const due = await trx
        .selectFrom('outbox')
        .selectAll()
        .where('delivered_at', 'is', null)
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', now)]))
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute()
      if (due.length > 0) {
        await trx
          .updateTable('outbox')
          .set({ leased_until: leaseUntil })
          .where(
            'id',
            'in',
            due.map((d) => d.id),
          )
          .execute()
      }
      return due.map((d) => ({ ...d, attempts: Number(d.attempts) }))
    })
  }

  async settleOutbox(
    id: string,
    outcome: { deliveredAt: string } | { error: string; nextAttemptAt: string | null },
  ): Promise<void> {
    const update =
      'deliveredAt' in outcome
        ? { delivered_at: outcome.deliveredAt, leased_until: null, last_error: null }
        : {
            last_error: outcome.error.slice(0, 1000),
            leased_until: null,
            // No next attempt: parked far in the future, kept for an operator to see.
            next_attempt_at: outcome.nextAttemptAt ?? PARKED,
          }
    await this.#db
      .updateTable('outbox')
      .set((eb) => ({ ...update, attempts: eb('attempts', '+', 1) }))
      .where('id', '=', id)
      .execute()
  }

  async pendingOutbox(limit: number): Promise<OutboxRow[]> {
    const rows = await this.#db
      .selectFrom('outbox')
      .selectAll()
      .where('delivered_at', 'is', null)
      .orderBy('created_at')
      .limit(limit)
      .execute()
    return rows.map((d) => ({ ...d, attempts: Number(d.attempts) }))
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
    client.on('notification', (message) => {
      if (message.channel === NOTIFY_CHANNEL) listener()
    })
    client.on('error', onError)
    await client.query(`LISTEN ${NOTIFY_CHANNEL}`)
    return async () => {
      await client.end().catch(() => {})
    }
  }

  async close(): Promise<void> {
    await this.#db.destroy()
  }

  bulkWrite<T>(
    since: number,
    plan: BulkPlanner<T, Change>,
    progress?: BulkProgress,
  ): Promise<BulkOutcome<T>> {
    const postgres = this.kind === 'postgres'
    return bulkWrite(
      {
        db: this.#db,
        sqlite: this.#connection.sqlite,
        lock: async (trx) => {
          if (postgres) await sql`select pg_advisory_xact_lock(${WRITE_LOCK_KEY})`.execute(trx)
        },
        maxRevision: (trx) => this.#maxRevision(trx),
        toChange,
        appendAudit: (trx, entries) => this.#appendAudit(trx, entries),
        announce: async (trx, revision) => {
          if (postgres) await sql`select pg_notify(${NOTIFY_CHANNEL}, ${String(revision)})`.execute(trx)
        },
      },
      since,
      plan,
      progress,
    )
  }
}

/** Opens the store at `target` (file path or postgres:// URL) and brings its schema up to date. */
export async function openStore(target: string): Promise<Store> {
  const connection = connect(target)
  try {
    await migrateToLatest(connection.db as unknown as Kysely<unknown>)
  } catch (error) {
    await connection.db.destroy()
    throw error
  }
  return new KyselyStore(connection)
}
