import BetterSqlite3 from 'better-sqlite3'
import { type Kysely, sql } from 'kysely'
import { type Database, type ReplicatedRows, type ReplicatedTable, replicatedTables } from './schema.js'

/** Receives the rows of one table of a snapshot, one at a time. */
export type RowSink<T extends ReplicatedTable = ReplicatedTable> = (row: ReplicatedRows[T]) => void

/**
 * Receives a table of one key column with, for each row, the rows of the tables that hang off it (whose first
 * key column holds that key): each child's rows as one JSON array, in no set order (ordering them costs a
 * fifth of the read), of arrays of the columns asked for. A million users with their credentials and grants cross into JavaScript as a million rows, not
 * fifteen million, and no child row needs its parent looked up.
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

/**
 * The query reading a table with its children (see JoinedSink): `json` builds one child's array from a
 * correlated subquery. The names are replicatedTables' and the loaders' own, never input; checked all the
 * same, since they are spliced into SQL.
 */
function joinedQuery(
  tbl: ReplicatedTable,
  sink: JoinedSink,
  json: (child: ReplicatedTable, columns: readonly string[], where: string) => string,
): string {
  const [key] = replicatedTables[tbl] as readonly string[]
  const children = sink.children.map(({ tbl: child, columns }, i) => {
    const [parentKey] = replicatedTables[child] as readonly string[]
    for (const name of columns) if (!NAME.test(name)) throw new Error(`${child}.${name} is not a column name`)
    return `(${json(child, columns, `${parentKey} = p.${key}`)}) as snapshot_child_${i}`
  })
  return `select p.*, ${children.join(', ')} from ${tbl} p`
}

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

/**
 * Streams a SQLite store's snapshot through a connection of its own, read only, in one read transaction (a
 * consistent snapshot under WAL): `.iterate()` hands over one row at a time, so no table is held whole.
 * Synchronous: nothing else runs on this thread while it reads.
 */
export function streamSqliteSnapshot(file: string, sinks: SnapshotSinks): number {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true })
  try {
    return db.transaction(() => {
      const head = db.prepare('select max(revision) as revision from changes').get() as {
        revision: number | null
      }
      for (const [tbl, sink] of tablesAsked(sinks)) {
        if (typeof sink === 'function') {
          for (const row of db.prepare(selectAll(tbl)).iterate()) sink(row as never)
          continue
        }
        const query = db
          .prepare(
            joinedQuery(
              tbl,
              sink,
              (child, columns, where) =>
                `select json_group_array(json_array(${columns.join(', ')})) from ${child} where ${where}`,
            ),
          )
          .raw()
        const names = query.columns().map((c) => c.name)
        const own = names.length - sink.children.length
        for (const values of query.iterate() as Iterable<unknown[]>) {
          const row: Record<string, unknown> = {}
          for (let i = 0; i < own; i++) row[names[i] as string] = values[i]
          sink.row(row, values.slice(own) as string[])
        }
      }
      return Number(head.revision ?? 0)
    })()
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
        const query =
          typeof sink === 'function'
            ? selectAll(tbl)
            : joinedQuery(
                tbl,
                sink,
                (child, columns, where) =>
                  `select coalesce(json_agg(json_build_array(${columns.join(', ')})), '[]')::text from ${child} where ${where}`,
              )
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
