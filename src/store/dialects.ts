import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import BetterSqlite3 from 'better-sqlite3'
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type Transaction,
  type TransactionSettings,
} from 'kysely'
import pg from 'pg'
import type { Database } from './schema.js'

export type StoreKind = 'sqlite' | 'postgres'

export interface Connection {
  kind: StoreKind
  db: Kysely<Database>
  /** Where the store is, with any password removed: safe to print and log. */
  location: string
  /** For SQLite: the database Kysely uses, for statements prepared once and reused (Kysely prepares each query again). */
  sqlite?: BetterSqlite3.Database
  /** For PostgreSQL: a fresh client for LISTEN. */
  connectListener?: () => Promise<pg.Client>
  /**
   * For SQLite: a prepared statement by its SQL text, made once and reused. Only for use inside a Kysely
   * transaction, which holds the one connection: the statements run on it, synchronously.
   */
  prepare?: Prepare
}

/** A prepared statement by its SQL text, kept (see statementCache). */
export type Prepare = (sql: string) => BetterSqlite3.Statement

export const isPostgresUrl = (target: string) => /^postgres(ql)?:\/\//i.test(target)

/**
 * Write transactions on SQLite take the write lock at BEGIN: a deferred transaction that reads first and
 * writes later fails with SQLITE_BUSY_SNAPSHOT when another process wrote in between, instead of waiting.
 * better-sqlite3 is synchronous, so waiting inside SQLite (busy_timeout) would stall the event loop, and
 * deadlock two connections of one process; the lock is retried asynchronously instead, every few milliseconds
 * so that a writer in another process that pauses between short transactions (an import) lets it in.
 */
export const LOCK_WAIT_MS = 15_000
/**
 * How long a statement on a node's own connection waits inside SQLite for another connection's lock: a
 * commit's moment, no more, since the event loop waits with it. Past the first try, a statement outside a
 * transaction (BEGIN IMMEDIATE among them) waits not at all (busy_timeout 0), retried from the event loop,
 * which stays free for what needs no write.
 */
export const BUSY_MS = 20

/**
 * Runs a statement, retrying it from the event loop while another connection holds the write lock (SQLite
 * answers SQLITE_BUSY once BUSY_MS has passed), for at most LOCK_WAIT_MS. Only where no transaction is open:
 * a statement that was refused did nothing, so running it again is safe.
 */
async function waitingForTheLock<T>(connection: DatabaseConnection, run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS
  let waiting = false
  try {
    for (let pause = 1; ; pause = Math.min(pause * 2, 2)) {
      try {
        return await run()
      } catch (error) {
        // SQLITE_BUSY_SNAPSHOT too: a statement that read before it wrote, while another connection committed.
        const code = (error as { code?: string }).code ?? ''
        if (!code.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw error
        if (!waiting) await connection.executeQuery(CompiledQuery.raw('pragma busy_timeout = 0'))
        waiting = true
        await sleep(pause)
      }
    }
  } finally {
    if (waiting) await connection.executeQuery(CompiledQuery.raw(`pragma busy_timeout = ${BUSY_MS}`))
  }
}

/**
 * The node's one connection, whose statements outside a transaction (oidc-provider's records, outbox and
 * retention bookkeeping) wait for the write lock as a transaction's BEGIN does. They failed after BUSY_MS
 * before: the node's own audit appender holds the lock through each commit's fsync, often longer on a loaded
 * disk, and a customer's consent then ended in a server error.
 */
class WaitingSqliteDriver extends SqliteDriver {
  readonly #sqlite: BetterSqlite3.Database
  #connection: DatabaseConnection | undefined

  constructor(config: ConstructorParameters<typeof SqliteDriver>[0], sqlite: BetterSqlite3.Database) {
    super(config)
    this.#sqlite = sqlite
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await super.acquireConnection()
    this.#connection ??= {
      executeQuery: (query) =>
        this.#sqlite.inTransaction
          ? connection.executeQuery(query)
          : waitingForTheLock(connection, () => connection.executeQuery(query)),
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    }
    return this.#connection
  }

  override async beginTransaction(
    connection: DatabaseConnection,
    settings?: TransactionSettings,
  ): Promise<void> {
    await connection.executeQuery(
      CompiledQuery.raw(settings?.accessMode === 'read only' ? 'begin' : 'begin immediate'),
    )
  }
}

class WaitingSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0]
  readonly #sqlite: BetterSqlite3.Database
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0], sqlite: BetterSqlite3.Database) {
    super(config)
    this.#config = config
    this.#sqlite = sqlite
  }
  override createDriver() {
    return new WaitingSqliteDriver(this.#config, this.#sqlite)
  }
}

/** Statements kept at most: SQL texts that vary (multi-row inserts of any length) must not pile up. */
const STATEMENTS_KEPT = 500

/**
 * Prepared statements by SQL text. Kysely's SQLite driver prepares every query again, which costs more than
 * running it; better-sqlite3 re-prepares a kept statement itself when the schema changes. A statement still
 * being iterated (a stream) cannot run twice at once: a fresh one is made for the second.
 */
export function statementCache(sqlite: BetterSqlite3.Database): Prepare {
  const kept = new Map<string, BetterSqlite3.Statement>()
  return (sql) => {
    const found = kept.get(sql)
    if (found && !found.busy) return found
    if (found) return sqlite.prepare(sql)
    if (kept.size >= STATEMENTS_KEPT) kept.clear()
    const statement = sqlite.prepare(sql)
    kept.set(sql, statement)
    return statement
  }
}

// pg returns int8 as a string; revisions and sequence numbers stay far below 2^53.
const pgTypes = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text'),
} as pg.CustomTypesConfig

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'postgres://(unparseable URL)'
  }
}

/**
 * A transaction whose loss in a power failure costs nothing that matters: work that is redone (a slice of an
 * import's publication, redone from staging), or bookkeeping whose loss errs on the safe side (a login
 * throttle's reset after a success). It commits without waiting for the disk: on SQLite at `synchronous =
 * NORMAL` (the next ordinary commit's flush of the log makes it durable; the connection stays held until the
 * setting is back, so no other transaction commits with it), on PostgreSQL with `synchronous_commit` off.
 */
export function lossableTransaction<T>(
  db: Kysely<Database>,
  sqlite: BetterSqlite3.Database | undefined,
  work: (trx: Transaction<Database>) => Promise<T>,
): Promise<T> {
  if (!sqlite)
    return db.transaction().execute(async (trx) => {
      await sql`set local synchronous_commit to off`.execute(trx)
      return work(trx)
    })
  return db.connection().execute(async (connection) => {
    sqlite.pragma('synchronous = NORMAL')
    try {
      return await connection.transaction().execute(work)
    } finally {
      sqlite.pragma('synchronous = FULL')
    }
  })
}

/**
 * A SQLite connection as every one of a node's is: write-ahead log, each commit synced to disk (synchronous
 * FULL), waiting at most `busyMs` inside SQLite for another connection's write lock.
 */
export function openSqlite(file: string, busyMs: number): BetterSqlite3.Database {
  const sqlite = new BetterSqlite3(file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = FULL')
  sqlite.pragma(`busy_timeout = ${busyMs}`)
  return sqlite
}

/** Opens a connection for a file path (SQLite, created with its folder if missing) or a postgres:// URL. */
export function connect(target: string): Connection {
  if (isPostgresUrl(target)) {
    const pool = new pg.Pool({ connectionString: target, max: 10, types: pgTypes })
    // An idle connection that drops (a server restart) must not crash the process: the pool replaces it,
    // and the next query that cannot connect reports the problem.
    pool.on('error', () => {})
    // So must one that drops while it is checked out between two queries: the query that uses it fails.
    pool.on('connect', (client) => client.on('error', () => {}))
    const dialect: Dialect = new PostgresDialect({ pool })
    return {
      kind: 'postgres',
      db: new Kysely<Database>({ dialect }),
      location: redactUrl(target),
      connectListener: async () => {
        // Bounded: a node that stops waits for a connect in progress, which a silent network would hold.
        const client = new pg.Client({
          connectionString: target,
          types: pgTypes,
          connectionTimeoutMillis: 10_000,
        })
        client.on('error', () => {}) // until the subscriber listens: a failed connect rejects instead
        await client.connect()
        return client
      },
    }
  }
  const file = resolve(target)
  mkdirSync(dirname(file), { recursive: true })
  const sqlite = openSqlite(file, BUSY_MS)
  const prepare = statementCache(sqlite)
  const database = { prepare, close: () => sqlite.close() }
  return {
    kind: 'sqlite',
    db: new Kysely<Database>({ dialect: new WaitingSqliteDialect({ database }, sqlite) }),
    sqlite,
    location: file,
    prepare,
  }
}
