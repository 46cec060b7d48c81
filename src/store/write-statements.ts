import { type Kysely, sql, type Transaction } from 'kysely'
import { type AuditEntry, type AuditRow, chainAuditEntries, GENESIS_HASH } from '../audit/chain.js'
import { CustodianError, RETRY_AFTER_SECONDS } from '../errors.js'
import type { Prepare } from './dialects.js'
import type { Database } from './schema.js'

/**
 * The statements every write runs (store.ts `write`), the cheap way for each backend: on SQLite kept
 * prepared statements on the connection the write's transaction holds (`prepare`), on PostgreSQL as few
 * round trips as the work allows.
 */
const SQLITE = {
  changesPage: 'select revision, at, tbl, op, row from changes where revision > ? order by revision limit ?',
  auditHead: 'select seq, hash from audit_log order by seq desc limit 1',
  appendAudit:
    'insert into audit_log (seq, at, actor, action, resource, outcome, reason, prev_hash, hash) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  auditHeadMeta:
    "insert into meta (key, value) values ('audit_head', ?) on conflict (key) do update set value = excluded.value",
}

export type ChangeRow = { revision: number; at: string; tbl: string; op: string; row: string }

/** Records committed changes in the change log, 200 rows a statement. */
export async function insertChanges(
  trx: Transaction<Database>,
  committed: readonly { revision: number; at: string; tbl: string; op: 'put' | 'delete'; row: unknown }[],
): Promise<void> {
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
}

/** Up to `limit` change rows after `since`, oldest first, read with kept statements of a SQLite connection. */
const changesPageSqlite = (prepare: Prepare, since: number, limit: number): ChangeRow[] =>
  prepare(SQLITE.changesPage).all(since, limit) as ChangeRow[]

/** Up to `limit` change rows after `since`, oldest first: with kept statements where a SQLite `prepare` is given. */
export async function changesPage(
  db: Kysely<Database> | Transaction<Database>,
  prepare: Prepare | undefined,
  since: number,
  limit: number,
): Promise<ChangeRow[]> {
  if (prepare) return changesPageSqlite(prepare, since, limit)
  return db
    .selectFrom('changes')
    .selectAll()
    .where('revision', '>', since)
    .orderBy('revision')
    .limit(limit)
    .execute()
}

/**
 * Changes a write reads under the write lock at most: what others committed since the writer last read. A
 * node behind by more (another process's bulk import, millions of changes) would hold them all in memory at
 * once, and the lock while it applied them: it catches up first, outside the lock (Kernel.write).
 */
export const PENDING_LIMIT = 10_000

/** A write's caller is more than PENDING_LIMIT changes behind the store: nothing was written. */
export class TooFarBehind extends CustodianError {
  constructor(since: number) {
    super(
      'Unavailable',
      `this node is more than ${PENDING_LIMIT.toLocaleString('en')} changes behind the store (at revision ${since}; a bulk import, say) and is catching up before it writes; try again shortly`,
      { retryAfterSeconds: RETRY_AFTER_SECONDS },
    )
  }
}

/** The change rows after `since`, oldest first; TooFarBehind past PENDING_LIMIT of them. */
export async function changesAfter(
  trx: Transaction<Database>,
  prepare: Prepare | undefined,
  since: number,
): Promise<ChangeRow[]> {
  const rows = await changesPage(trx, prepare, since, PENDING_LIMIT + 1)
  if (rows.length > PENDING_LIMIT) throw new TooFarBehind(since)
  return rows
}

/**
 * PostgreSQL's lock on the audit log's end, apart from the write lock: a write takes it after its changes,
 * just before its records, and holds it only to its commit; records appended alone (the decisions') take it
 * alone. So a long write (a bulk import holds the write lock for its whole run) keeps no decision waiting
 * for its audit record. Always taken after the write lock, never before it: no two transactions wait on each
 * other. (SQLite has one write lock a file, taken at BEGIN IMMEDIATE.)
 */
export const AUDIT_LOCK_KEY = 0x61756469 // 'audi'

/**
 * Chains `entries` after the last record, read under the audit log's lock (another node may have appended
 * since this one did), and writes them with the new head. SQLite runs a kept insert a row at a time (cheap
 * inside one transaction); PostgreSQL gets every row as column arrays in one statement, the head upsert with
 * it.
 */
export async function appendAudit(
  trx: Transaction<Database>,
  prepare: Prepare | undefined,
  entries: readonly AuditEntry[],
): Promise<AuditHead | undefined> {
  if (prepare) return appendAuditSqlite(prepare, entries)
  await sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(trx)
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
  const head = rows.at(-1)
  if (!head) return undefined
  const value = JSON.stringify({ seq: head.seq, hash: head.hash })
  const column = <K extends keyof AuditRow>(key: K) => rows.map((r) => r[key])
  await sql`with appended as (
      insert into audit_log (seq, at, actor, action, resource, outcome, reason, prev_hash, hash)
      select * from unnest(${column('seq')}::bigint[], ${column('at')}::text[], ${column('actor')}::text[],
        ${column('action')}::text[], ${column('resource')}::text[], ${column('outcome')}::text[],
        ${column('reason')}::text[], ${column('prev_hash')}::text[], ${column('hash')}::text[])
    )
    insert into meta (key, value) values ('audit_head', ${value})
    on conflict (key) do update set value = excluded.value`.execute(trx)
  return { seq: head.seq, hash: head.hash }
}

export type AuditHead = { seq: number; hash: string }

/**
 * appendAudit on SQLite, synchronously, with kept statements of the connection whose write transaction is
 * open: on the serving connection, or on audit-appender.ts's own in its worker thread.
 */
export function appendAuditSqlite(prepare: Prepare, entries: readonly AuditEntry[]): AuditHead | undefined {
  const last = prepare(SQLITE.auditHead).get() as AuditHead | undefined
  const rows = chainAuditEntries(entries, last ?? { seq: 0, hash: GENESIS_HASH })
  const head = rows.at(-1)
  if (!head) return undefined
  const insert = prepare(SQLITE.appendAudit)
  for (const r of rows)
    insert.run(r.seq, r.at, r.actor, r.action, r.resource, r.outcome, r.reason, r.prev_hash, r.hash)
  prepare(SQLITE.auditHeadMeta).run(JSON.stringify({ seq: head.seq, hash: head.hash }))
  return { seq: head.seq, hash: head.hash }
}

/** Chainings tried against a log other nodes keep appending to, before the caller takes the write path. */
const APPEND_TRIES = 3

/**
 * PostgreSQL: appends `entries` alone (no change, no pending change read) in one round trip and one commit,
 * through migrations.ts's `custodian_append_audit`, chained after `believed` (the head this node last wrote
 * or saw). If another node appended since, the function writes nothing and answers the real head, and the
 * records are chained again from it. Resolves to the new head, or undefined when other nodes kept appending
 * first (the caller then writes them under the lock, the long way).
 */
export async function appendAuditAlone(
  db: Kysely<Database>,
  lockKey: number,
  entries: readonly AuditEntry[],
  believed: AuditHead,
): Promise<AuditHead | undefined> {
  let after = believed
  for (let tries = 0; tries < APPEND_TRIES; tries++) {
    const rows = chainAuditEntries(entries, after)
    const head = rows.at(-1)
    if (!head) return after
    const answer = await sql<{ seq: string | number; hash: string | null }>`select seq, hash
      from custodian_append_audit(${lockKey}, ${after.seq}, ${after.hash}, ${JSON.stringify(rows)}::json,
        ${JSON.stringify({ seq: head.seq, hash: head.hash })})`.execute(db)
    const actual = answer.rows[0]
    if (!actual) return { seq: head.seq, hash: head.hash }
    after = { seq: Number(actual.seq), hash: actual.hash ?? GENESIS_HASH }
  }
  return undefined
}
