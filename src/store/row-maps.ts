import { type ReplicatedRows, type ReplicatedTable, replicatedTables } from './schema.js'
import type { RowSink } from './snapshot-stream.js'
import type { Change } from './store.js'

/**
 * Rows of some replicated tables held in memory by key, loaded from a snapshot and kept fresh from the change
 * log: what a projection that needs its rows as they are (and no derived state) is built on.
 */
export class RowMaps<T extends ReplicatedTable> {
  revision = 0
  readonly #maps = new Map<ReplicatedTable, Map<string, unknown>>()

  constructor(tables: readonly T[]) {
    for (const tbl of tables) this.#maps.set(tbl, new Map())
  }

  of<K extends T>(tbl: K): Map<string, ReplicatedRows[K]> {
    return this.#maps.get(tbl) as Map<string, ReplicatedRows[K]>
  }

  /** Where a snapshot's rows of `tbl` go: into its map, when it is one of these tables. */
  sink<K extends ReplicatedTable>(tbl: K): RowSink<K> | undefined {
    const map = this.#maps.get(tbl)
    if (!map) return undefined
    return (row) => map.set(keyOf(tbl, row), row)
  }

  apply(changes: readonly Change[]): void {
    for (const change of changes) {
      if (change.revision <= this.revision) continue
      this.revision = change.revision
      const map = this.#maps.get(change.tbl)
      if (!map) continue
      const key = keyOf(change.tbl, change.row as object)
      if (change.op === 'put') map.set(key, change.row)
      else map.delete(key)
    }
  }
}

/** One key per row, as its key columns (a single column: its value). */
export function keyOf(tbl: ReplicatedTable, row: object): string {
  const columns = replicatedTables[tbl] as readonly string[]
  const values = row as Record<string, unknown>
  // Most tables have one key column: no array to build for each row of a snapshot.
  if (columns.length === 1) return String(values[columns[0] as string])
  return columns.map((column) => String(values[column])).join('\u0000')
}

/**
 * A projection that is its rows as they are (kernel/projections.ts): the subclass names its tables and reads
 * them through `rows`; the revision, applying changes and building from a snapshot are the same for all.
 */
export abstract class RowProjection<T extends ReplicatedTable> {
  protected readonly rows: RowMaps<T>

  constructor(tables: readonly T[]) {
    this.rows = new RowMaps(tables)
  }

  get revision(): number {
    return this.rows.revision
  }

  apply(changes: readonly Change[]): void {
    this.rows.apply(changes)
  }

  /** An empty model filling from a streamed snapshot (kernel/projections.ts SnapshotLoader). */
  static loader<M extends RowProjection<ReplicatedTable>>(
    this: new () => M,
  ): { rows<K extends ReplicatedTable>(tbl: K): RowSink<K> | undefined; finish(revision: number): M } {
    const model = new this()
    return {
      rows: (tbl) => model.rows.sink(tbl),
      finish(revision) {
        model.rows.revision = revision
        return model
      },
    }
  }
}
