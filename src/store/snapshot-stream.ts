import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import BetterSqlite3 from 'better-sqlite3'
import { type Kysely, sql } from 'kysely'
import { type Database, type ReplicatedRows, type ReplicatedTable, replicatedTables } from './schema.js'

/** Receives the rows of one table of a snapshot, one at a time. */
export type RowSink<T extends ReplicatedTable = ReplicatedTable> = (row: ReplicatedRows[T]) => void

/**
 * Receives a table of one key column with, for each row, the rows of the tables that hang off it (whose first
 * key column holds that key): each child's rows as one JSON array, in no set order (ordering them costs a
 * fifth of the read), of arrays of the columns asked for. A million users with their credentials and grants
 * cross into JavaScript as a million rows, not fifteen million, and no child row needs its parent looked up.
 */
export interface JoinedSink {
  readonly children: readonly { readonly tbl: ReplicatedTable; readonly columns: readonly string[] }[]
  row(row: object, children: readonly string[]): void
}

/**
 * Says, for each replicated table, where its rows go; a table nobody wants (undefined) is not read at all.
 * Asked once per table, in the order of `replicatedTables`; a table read as a child of an earlier one's
 * JoinedSink is not asked.
 */
export type SnapshotSinks = <T extends ReplicatedTable>(tbl: T) => RowSink<T> | JoinedSink | undefined

const NAME = /^[a-z_]+$/

/** Rows fetched from a PostgreSQL cursor at a time: few enough that a page is small beside the Index. */
const PAGE = 5_000

const tables = Object.keys(replicatedTables) as ReplicatedTable[]

/** Each table asked for and its sink, in order, leaving out the tables read as an earlier one's children. */
function* tablesAsked(sinks: SnapshotSinks): Generator<[ReplicatedTable, RowSink | JoinedSink]> {
  const read = new Set<ReplicatedTable>()
  for (const tbl of tables) {
    if (read.has(tbl)) continue
    const sink = sinks(tbl)
    if (!sink) continue
    if (typeof sink !== 'function') for (const child of sink.children) read.add(child.tbl)
    yield [tbl, sink as RowSink | JoinedSink]
  }
}

/**
 * The query reading a table: in key order where the key has several columns, so that rows sharing a first
 * key column (a user's grants, say) come together. The names are replicatedTables' own, never input.
 */
function selectAll(tbl: ReplicatedTable): string {
  const keys = replicatedTables[tbl] as readonly string[]
  return keys.length > 1 ? `select * from ${tbl} order by ${keys.join(', ')}` : `select * from ${tbl}`
}

/** A child's rows for one parent row, as the SQL of a correlated subquery (see JoinedSink). */
type ChildJson = (child: ReplicatedTable, columns: readonly string[], where: string) => string

const sqliteChildJson: ChildJson = (child, columns, where) =>
  `select json_group_array(json_array(${columns.join(', ')})) from ${child} where ${where}`
const postgresChildJson: ChildJson = (child, columns, where) =>
  `select coalesce(json_agg(json_build_array(${columns.join(', ')})), '[]')::text from ${child} where ${where}`

/**
 * The query reading a table for its sink: every row (selectAll), or each row with its children (see
 * JoinedSink). The names are replicatedTables' and the loaders' own, never input; checked all the same,
 * since they are spliced into SQL.
 */
function tableQuery(tbl: ReplicatedTable, sink: RowSink | JoinedSink, json: ChildJson): string {
  if (typeof sink === 'function') return selectAll(tbl)
  const [key] = replicatedTables[tbl] as readonly string[]
  const children = sink.children.map(({ tbl: child, columns }, i) => {
    const [parentKey] = replicatedTables[child] as readonly string[]
    for (const name of columns) if (!NAME.test(name)) throw new Error(`${child}.${name} is not a column name`)
    return `(${json(child, columns, `${parentKey} = p.${key}`)}) as snapshot_child_${i}`
  })
  return `select p.*, ${children.join(', ')} from ${tbl} p`
}

/** Rows a batch, and batches read ahead of the main thread at most: the reading stays within bounded memory. */
const BATCH_ROWS = 4_096
const AHEAD = 8

// The reader's code, as a CommonJS script (as wal-checkpointer.ts's): it runs each read in one read
// transaction on a connection of its own and posts the rows as flat arrays of values, a batch at a time,
// counting batches in `counts` (0: sent, 1: taken by the main thread), and waits while it is AHEAD ahead.
const READER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const { file, reads, batchRows, ahead } = workerData
const counts = new Int32Array(workerData.counts)
const send = (message) => {
  parentPort.postMessage(message)
  Atomics.add(counts, 0, 1)
  for (;;) {
    const taken = Atomics.load(counts, 1)
    if (Atomics.load(counts, 0) - taken < ahead) return
    Atomics.wait(counts, 1, taken, 1000)
  }
}
let db
try {
  db = new Database(file, { readonly: true, fileMustExist: true })
  const revision = db.transaction(() => {
    const head = db.prepare('select max(revision) as revision from changes').get()
    reads.forEach((sql, read) => {
      const statement = db.prepare(sql).raw()
      const columns = statement.columns().map((column) => column.name)
      let values = []
      for (const row of statement.iterate()) {
        for (const value of row) values.push(value)
        if (values.length >= batchRows * columns.length) {
          send({ read, columns, values })
          values = []
        }
      }
      if (values.length > 0) send({ read, columns, values })
    })
    return Number(head.revision ?? 0)
  })()
  parentPort.postMessage({ revision })
} catch (error) {
  parentPort.postMessage({ failed: String(error.message), code: error.code })
} finally {
  db?.close()
}
`

type FromReader =
  | { read: number; columns: string[]; values: unknown[] }
  | { revision: number }
  | { failed: string; code?: string }

/**
 * Streams a SQLite store's snapshot, read in one read transaction (a consistent snapshot under WAL) on a
 * connection of its own in a worker thread: SQLite's half of the work (a million users' rows joined with
 * their credentials and grants, say) runs beside the main thread's, which builds the projections from the
 * batches handed over. No table is held whole on either side.
 */
export async function streamSqliteSnapshot(file: string, sinks: SnapshotSinks): Promise<number> {
  const asked = [...tablesAsked(sinks)]
  // Nothing to read but the revision (a command opened without the Index): no thread for that.
  if (asked.length === 0) return sqliteHead(file)
  const reads = asked.map(([tbl, sink]) => tableQuery(tbl, sink, sqliteChildJson))
  const counts = new Int32Array(new SharedArrayBuffer(8))
  const module = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(READER, {
    eval: true,
    workerData: { module, file, reads, batchRows: BATCH_ROWS, ahead: AHEAD, counts: counts.buffer },
  })
  const take = (read: number, columns: readonly string[], values: readonly unknown[]) => {
    const [, sink] = asked[read] as (typeof asked)[number]
    const width = columns.length
    const own = typeof sink === 'function' ? width : width - sink.children.length
    for (let at = 0; at < values.length; at += width) {
      const row: Record<string, unknown> = {}
      for (let i = 0; i < own; i++) row[columns[i] as string] = values[at + i]
      if (typeof sink === 'function') sink(row as never)
      else sink.row(row, values.slice(at + own, at + width) as string[])
    }
  }
  try {
    return await new Promise<number>((resolve, reject) => {
      worker.on('message', (message: FromReader) => {
        if ('values' in message) {
          try {
            take(message.read, message.columns, message.values)
          } catch (error) {
            reject(error)
          }
          Atomics.add(counts, 1, 1)
          Atomics.notify(counts, 1)
        } else if ('failed' in message) {
          reject(Object.assign(new Error(message.failed), { code: message.code }))
        } else resolve(message.revision)
      })
      worker.on('error', reject)
      worker.on('exit', (code) => reject(new Error(`the snapshot reader stopped early (exit code ${code})`)))
    })
  } finally {
    await worker.terminate()
  }
}

/** The revision a SQLite store has reached. */
function sqliteHead(file: string): number {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true })
  try {
    const head = db.prepare('select max(revision) as revision from changes').get() as {
      revision: number | null
    }
    return Number(head.revision ?? 0)
  } finally {
    db.close()
  }
}

/** A joined row from PostgreSQL, parted into the table's own columns and its children's arrays. */
function ownAndChildren(row: Record<string, unknown>, sink: JoinedSink): [object, string[]] {
  const own: Record<string, unknown> = {}
  const children: string[] = []
  for (const [name, value] of Object.entries(row)) {
    if (name.startsWith('snapshot_child_')) children[Number(name.slice(15))] = value as string
    else own[name] = value
  }
  return [own, sink.children.map((_, i) => children[i] ?? '[]')]
}

/**
 * Streams a PostgreSQL store's snapshot in one read-only, repeatable-read transaction, each table through a
 * cursor fetched a page at a time.
 */
export async function streamPostgresSnapshot(db: Kysely<Database>, sinks: SnapshotSinks): Promise<number> {
  return db
    .transaction()
    .setAccessMode('read only')
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const head = await trx
        .selectFrom('changes')
        .select((eb) => eb.fn.max('revision').as('revision'))
        .executeTakeFirst()
      for (const [tbl, sink] of tablesAsked(sinks)) {
        const query = tableQuery(tbl, sink, postgresChildJson)
        await sql.raw(`declare snapshot_rows no scroll cursor for ${query}`).execute(trx)
        for (;;) {
          const { rows } = await sql.raw(`fetch forward ${PAGE} from snapshot_rows`).execute(trx)
          if (typeof sink === 'function') for (const row of rows) sink(row as never)
          else for (const row of rows as Record<string, unknown>[]) sink.row(...ownAndChildren(row, sink))
          if (rows.length < PAGE) break
        }
        await sql.raw('close snapshot_rows').execute(trx)
      }
      return Number(head?.revision ?? 0)
    })
}
