import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import type BetterSqlite3 from 'better-sqlite3'
import { CompiledQuery, type Kysely, type Transaction } from 'kysely'
import type { AuditEntry } from '../audit/chain.js'
import type { Database, ReplicatedRows, ReplicatedTable } from './schema.js'
import { replicatedTables } from './schema.js'
import { type ChangeRow, changesAfter } from './write-statements.js'

/**
 * Bulk writes: many rows of a few replicated tables committed in one transaction, fast, each row also a
 * change record (consecutive revisions) so other nodes catch up as from any write. The hot inserts bypass
 * Kysely's query building: rows as JSON arrays split by `json_each` on SQLite, `unnest` on PostgreSQL.
 */

/** Rows to put into one table, all with the same columns, produced while they are written. */
export type BulkRows = {
  [T in ReplicatedTable]: { tbl: T; count: number; rows: Iterable<ReplicatedRows[T]> }
}[ReplicatedTable]

export interface BulkPlan<T> {
  /** Upserted in this order (a row replaces the one with its key), each with its change record. */
  tables: BulkRows[]
  audit: AuditEntry[]
  result: T
}

/**
 * Given the changes others committed since the caller's revision, what to write (or a throw: nothing). `C` is
 * the store's Change, named there (this file imports nothing of store.ts, which imports it).
 */
export type BulkPlanner<T, C> = (pending: C[]) => BulkPlan<T>

export interface BulkOutcome<T> {
  result: T
  /** The revision of the first change written (the store's head + 1 if none was). */
  firstRevision: number
  /** The store's revision after the write. */
  revision: number
}

/** Rows written so far of all the plan's tables, reported every few thousand. */
export type BulkProgress = (written: number, total: number) => void

/** What the store lends the bulk writer: its connection, and the parts of its write path it shares. */
export interface BulkWriteHost<C> {
  db: Kysely<Database>
  /** The raw SQLite handle Kysely's connection uses; undefined on PostgreSQL. */
  sqlite: BetterSqlite3.Database | undefined
  /** Takes the write lock (PostgreSQL's advisory lock; SQLite's is taken at BEGIN IMMEDIATE). */
  lock(trx: Transaction<Database>): Promise<void>
  maxRevision(trx: Transaction<Database>): Promise<number>
  /** A row of the change log as a Change. */
  toChange(row: ChangeRow): C
  appendAudit(trx: Transaction<Database>, entries: AuditEntry[]): Promise<void>
  /** Tells other nodes the store moved to `revision`. */
  announce(trx: Transaction<Database>, revision: number): Promise<void>
}

// Small enough to keep PostgreSQL's parameter arrays modest, large enough that round trips do not dominate.
const PG_BATCH = 5_000
// How often a SQLite write lets the event loop run (progress bars, other requests reading the Index).
const SQLITE_SLICE = 20_000
// SQLite's page cache while a bulk write runs, in KiB (512 MB, restored after): a transaction larger than the
// cache spills its pages to the WAL and reads them back from there.
const SQLITE_CACHE = -524_288
// Rows a SQLite insert statement (as one JSON array).
const SQLITE_ROWS = 1_000

/**
 * Runs `plan` under the write lock with the changes others committed since `since` (a caller whose checks they
 * upset throws to abort), then writes its rows, their change records and its audit records, all or nothing.
 */
export async function bulkWrite<T, C extends { revision: number }>(
  host: BulkWriteHost<C>,
  since: number,
  plan: BulkPlanner<T, C>,
  progress?: BulkProgress,
): Promise<BulkOutcome<T>> {
  return host.db.transaction().execute(async (trx) => {
    await host.lock(trx)
    const pending = (await changesAfter(trx, undefined, since)).map(host.toChange)
    const head = pending.at(-1)?.revision ?? (await host.maxRevision(trx))
    const { tables, audit, result } = plan(pending)
    const at = new Date().toISOString()
    const total = tables.reduce((sum, t) => sum + t.count, 0)
    const write = host.sqlite
      ? writeSqlite(host.sqlite, tables, head, at, total, progress)
      : writePostgres(trx, tables, head, at, total, progress)
    const revision = await write
    if (audit.length > 0) await host.appendAudit(trx, audit)
    if (revision > head) await host.announce(trx, revision)
    return { result, firstRevision: head + 1, revision }
  })
}

const upsertClause = (tbl: ReplicatedTable, columns: readonly string[]) => {
  const keys = replicatedTables[tbl] as readonly string[]
  const rest = columns.filter((c) => !keys.includes(c))
  return rest.length === 0
    ? `on conflict (${keys.join(', ')}) do nothing`
    : `on conflict (${keys.join(', ')}) do update set ${rest.map((c) => `${c} = excluded.${c}`).join(', ')}`
}

async function writeSqlite(
  sqlite: BetterSqlite3.Database,
  tables: readonly BulkRows[],
  head: number,
  at: string,
  total: number,
  progress?: BulkProgress,
): Promise<number> {
  // A batch of rows crosses into SQLite as one JSON array, split there by json_each: binding each value
  // separately costs more than the inserts. The change record's row is the element's JSON text.
  const changes = sqlite.prepare(
    `insert into changes (revision, at, tbl, op, row) select key + ?, ?, ?, 'put', value from json_each(?)`,
  )
  let revision = head
  let yielded = head
  const cache = sqlite.pragma('cache_size', { simple: true })
  sqlite.pragma(`cache_size = ${SQLITE_CACHE}`)
  for (const { tbl, rows } of tables) {
    // The first row names the columns of all of them.
    const iterator: Iterator<object> = rows[Symbol.iterator]()
    let next = iterator.next()
    if (next.done) continue
    const columns = Object.keys(next.value)
    const puts = sqlite.prepare(
      `insert into ${tbl} (${columns.join(', ')}) select ${columns.map((c) => `value ->> '${c}'`).join(', ')} from json_each(?) where true ${upsertClause(tbl, columns)}`,
    )
    let batch: object[] = []
    const flush = () => {
      const json = JSON.stringify(batch)
      puts.run(json)
      changes.run(revision + 1, at, tbl, json)
      revision += batch.length
      batch = []
    }
    for (; !next.done; next = iterator.next()) {
      batch.push(next.value)
      if (batch.length === SQLITE_ROWS) flush()
      if (revision - yielded >= SQLITE_SLICE) {
        yielded = revision
        progress?.(revision - head, total)
        await yieldToEventLoop()
      }
    }
    if (batch.length > 0) flush()
  }
  sqlite.pragma(`cache_size = ${cache}`)
  progress?.(revision - head, total)
  return revision
}

/** PostgreSQL's type of a column, from a value of it (the entitlement tables hold text and integers). */
const pgArrayType = (value: unknown) => (typeof value === 'number' ? 'bigint[]' : 'text[]')

async function writePostgres(
  trx: Transaction<Database>,
  tables: readonly BulkRows[],
  head: number,
  at: string,
  total: number,
  progress?: BulkProgress,
): Promise<number> {
  let revision = head
  for (const { tbl, rows } of tables) {
    const iterator = (rows as Iterable<Record<string, unknown>>)[Symbol.iterator]()
    let next = iterator.next()
    if (next.done) continue
    const first = next.value
    const columns = Object.keys(first)
    const types = columns.map((c) => pgArrayType(first[c]))
    const insert = `insert into ${tbl} (${columns.join(', ')}) select * from unnest(${types.map((t, i) => `$${i + 1}::${t}`).join(', ')}) ${upsertClause(tbl, columns)}`
    let batch: Record<string, unknown>[] = []
    const flush = async () => {
      if (batch.length === 0) return
      await trx.executeQuery(
        CompiledQuery.raw(
          insert,
          columns.map((c) => batch.map((row) => row[c] ?? null)),
        ),
      )
      const from = revision + 1
      revision += batch.length
      await trx.executeQuery(
        CompiledQuery.raw(
          `insert into changes (revision, at, tbl, op, row)
           select r, $2, $3, 'put', j from unnest($1::bigint[], $4::text[]) as t(r, j)`,
          [batch.map((_, i) => from + i), at, tbl, batch.map((row) => JSON.stringify(row))],
        ),
      )
      batch = []
      progress?.(revision - head, total)
    }
    for (; !next.done; next = iterator.next()) {
      batch.push(next.value)
      if (batch.length === PG_BATCH) await flush()
    }
    await flush()
  }
  return revision
}
