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

/** How the kernel builds a projection from a snapshot: its class, whose static `fromSnapshot` does it. */
export interface ProjectionKind<K extends keyof Index> {
  fromSnapshot(snapshot: Snapshot): Index[K] & Projection
}

/** What a node registers: a kind for every member of the Index, so that none is left out. */
export type ProjectionKinds = { [K in keyof Index]: ProjectionKind<K> }
