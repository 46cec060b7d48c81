import type { ReplicatedTable } from '../store/schema.js'
import type { JoinedSink, RowSink } from '../store/snapshot-stream.js'
import type { Change, Snapshot } from '../store/store.js'

/** A view of the change log kept in memory: built from a snapshot, then fed every committed change in order. */
export interface Projection {
  readonly revision: number
  /** Applies committed changes in revision order, skipping those already applied. */
  apply(changes: readonly Change[]): void
}

/**
 * The Index: every projection registered with the kernel, by name, as plans see them under the write lock.
 * The kernel knows no domain, so it is empty here: each domain adds its projection where it defines it, by
 * declaration merging (as Fastify's decorators do), e.g.
 * `declare module '../kernel/projections.js' { interface Index { consent: ConsentModel } }`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: the domains add its members by declaration merging
export interface Index {}

/**
 * Builds one projection from a snapshot streamed row by row, so that no table is ever held whole: the store
 * asks `rows` for each table where its rows go (undefined: the projection does not read it), then `finish`
 * gives the projection, standing at the snapshot's revision.
 */
export interface SnapshotLoader<P> {
  rows<T extends ReplicatedTable>(tbl: T): RowSink<T> | undefined
  /**
   * Where a table goes with the tables hanging off it joined to each row, when this projection alone reads
   * them all (else `rows`, table by table).
   */
  joined?(tbl: ReplicatedTable): JoinedSink | undefined
  finish(revision: number): P
}

/** How the kernel builds a projection: its class, whose static `loader` starts an empty one. */
export interface ProjectionKind<K extends keyof Index> {
  loader(): SnapshotLoader<Index[K] & Projection>
}

/** What a node registers: a kind for every member of the Index, so that none is left out. */
export type ProjectionKinds = { [K in keyof Index]: ProjectionKind<K> }

/** A projection built from a snapshot already read whole (tests, and tools that hold one). */
export function fromSnapshot<P>(loader: SnapshotLoader<P>, snapshot: Snapshot): P {
  for (const tbl of Object.keys(snapshot.rows) as ReplicatedTable[]) {
    const sink = loader.rows(tbl)
    if (sink) for (const row of snapshot.rows[tbl]) sink(row as never)
  }
  return loader.finish(snapshot.revision)
}
