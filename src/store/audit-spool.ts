import type BetterSqlite3 from 'better-sqlite3'
import type { AuditEntry } from '../audit/chain.js'
import { openSqlite, type Prepare, statementCache } from './dialects.js'
import { type AuditHead, appendAuditSqlite } from './write-statements.js'

/**
 * Where a serving SQLite node's audit appender keeps decisions' records while another connection holds the
 * store's write lock for long (a bulk import is one write, minutes long at a million users): a SQLite file of
 * its own beside the store, with its own lock, committed with the same durability (synchronous FULL) before
 * the callers hear their answers. The records are chained into the log by the next append that gets the
 * write lock, first, in the same transaction, or by a retry every RETRY_MS.
 *
 * Moved exactly once across two files: the log's transaction records the last spooled batch it took
 * (`audit_spool_moved` in meta), and only later batches are taken; the spool forgets taken ones afterwards.
 * Records wait in the spool unchained, so `audit verify` and `audit list` see them once moved; a write's own
 * records may be chained before decisions spooled earlier (each record keeps its own time).
 */
export const spoolFile = (file: string) => `${file}-audit-spool`

/** How often a spool holding records tries to move them into the log. */
const RETRY_MS = 1_000
/** How long a spool write waits for another node's spool write (each a few milliseconds). */
const SPOOL_BUSY_MS = 5_000

const SQL = {
  create:
    'create table if not exists spooled_audit (id integer primary key autoincrement, entries text not null)',
  spool: 'insert into spooled_audit (entries) values (?)',
  waiting: 'select id, entries from spooled_audit where id > ? order by id',
  forget: 'delete from spooled_audit where id <= ?',
  any: 'select 1 from spooled_audit where id > ? limit 1',
  moved: "select value from meta where key = 'audit_spool_moved'",
  markMoved:
    "insert into meta (key, value) values ('audit_spool_moved', ?) on conflict (key) do update set value = excluded.value",
}

export class AuditSpool {
  readonly #logPrepare: Prepare
  readonly #prepare: Prepare
  readonly #append: BetterSqlite3.Transaction<
    (entries: readonly AuditEntry[]) => { head: AuditHead | undefined; took: number | undefined }
  >
  #retry: NodeJS.Timeout | undefined

  /** `log`: the appender's connection to the store at `file`, waiting as it should for the write lock. */
  constructor(log: BetterSqlite3.Database, file: string) {
    const logPrepare = statementCache(log)
    this.#logPrepare = logPrepare
    const spool = openSqlite(spoolFile(file), SPOOL_BUSY_MS)
    spool.exec(SQL.create)
    this.#prepare = statementCache(spool)
    this.#append = log.transaction((entries) => {
      // Read under the write lock: no other node moves spooled records meanwhile.
      const waiting = this.#prepare(SQL.waiting).all(this.#moved()) as { id: number; entries: string }[]
      const spooled = waiting.flatMap((batch) => JSON.parse(batch.entries) as AuditEntry[])
      const head = appendAuditSqlite(logPrepare, spooled.length > 0 ? [...spooled, ...entries] : entries)
      const took = waiting.at(-1)?.id
      if (took !== undefined) logPrepare(SQL.markMoved).run(String(took))
      return { head, took }
    })
    if (this.#holds()) this.#retryLater()
  }

  /**
   * Appends `entries` to the log after any spooled records, under the write lock (waiting as the log's
   * connection does; throws SQLITE_BUSY when it stays held). Answers the new head.
   */
  append(entries: readonly AuditEntry[]): AuditHead | undefined {
    const { head, took } = this.#append.immediate(entries)
    if (took !== undefined) this.#prepare(SQL.forget).run(took)
    return head
  }

  /** Keeps `entries` in the spool, committed, to be chained into the log later. */
  keep(entries: readonly AuditEntry[]): void {
    this.#prepare(SQL.spool).run(JSON.stringify(entries))
    this.#retryLater()
  }

  #moved(): number {
    const row = this.#logPrepare(SQL.moved).get() as { value: string } | undefined
    return row ? Number(row.value) : 0
  }

  #holds(): boolean {
    return this.#prepare(SQL.any).get(this.#moved()) !== undefined
  }

  #retryLater(): void {
    if (this.#retry) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      try {
        this.append([])
      } catch {
        // The lock is still held (or the log refused): try again later while records wait.
      }
      if (this.#holds()) this.#retryLater()
    }, RETRY_MS)
    this.#retry.unref()
  }
}
