import BetterSqlite3 from 'better-sqlite3'
import { type Kysely, sql } from 'kysely'
import { type Database, type ReplicatedRows, type ReplicatedTable, replicatedTables } from './schema.js'

/** Receives the rows of one table of a snapshot, one at a time. */
export type RowSink<T extends ReplicatedTable = ReplicatedTable> = (row: ReplicatedRows[T]) => void

/**
 * Receives a table of three key columns as groups: the first two columns' values, and the third's of every
 * row sharing them, as a JSON array of strings in key order. The database groups them, so a million users'
 * ten grants each cross into JavaScript as three million groups, not ten million rows.
 */
export interface GroupSink {
  groups: (first: string, second: string, thirds: string) => void
}

/**
 * Says, for each replicated table, where its rows go; a table nobody wants (undefined) is not read at all.
 * Asked once per table, in the order of `replicatedTables`.
 */
export type SnapshotSinks = <T extends ReplicatedTable>(tbl: T) => RowSink<T> | GroupSink | undefined

/** The key columns of a table read in groups: three, by the schema of every table a GroupSink may ask. */
function groupKeys(tbl: ReplicatedTable): [string, string, string] {
  const keys = replicatedTables[tbl] as readonly string[]
  if (keys.length !== 3) throw new Error(`${tbl} has ${keys.length} key columns: it is not read in groups`)
  return keys as unknown as [string, string, string]
}

/** Rows fetched from a PostgreSQL cursor at a time: few enough that a page is small beside the Index. */
const PAGE = 5_000

const tables = Object.keys(replicatedTables) as ReplicatedTable[]

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
      for (const tbl of tables) {
        const sink = sinks(tbl)
        if (!sink) continue
        if (typeof sink === 'function') {
          for (const row of db.prepare(selectAll(tbl)).iterate()) sink(row as never)
          continue
        }
        // Grouped in the primary key's order, so json_group_array takes each group's rows in key order.
        const [a, b, c] = groupKeys(tbl)
        const query = db
          .prepare(
            `select ${a}, ${b}, json_group_array(${c}) from ${tbl} group by ${a}, ${b} order by ${a}, ${b}`,
          )
          .raw()
        for (const [first, second, thirds] of query.iterate() as Iterable<[string, string, string]>)
          sink.groups(first, second, thirds)
      }
      return Number(head.revision ?? 0)
    })()
  } finally {
    db.close()
  }
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
      for (const tbl of tables) {
        const sink = sinks(tbl)
        if (!sink) continue
        const grouped = typeof sink === 'function' ? undefined : groupKeys(tbl)
        const query = grouped
          ? `select ${grouped[0]} as a, ${grouped[1]} as b, json_agg(${grouped[2]} order by ${grouped[2]})::text as c from ${tbl} group by ${grouped[0]}, ${grouped[1]}`
          : selectAll(tbl)
        await sql.raw(`declare snapshot_rows no scroll cursor for ${query}`).execute(trx)
        for (;;) {
          const { rows } = await sql.raw(`fetch forward ${PAGE} from snapshot_rows`).execute(trx)
          if (typeof sink === 'function') for (const row of rows) sink(row as never)
          else
            for (const row of rows as { a: string; b: string; c: string }[]) sink.groups(row.a, row.b, row.c)
          if (rows.length < PAGE) break
        }
        await sql.raw('close snapshot_rows').execute(trx)
      }
      return Number(head?.revision ?? 0)
    })
}
