import { RowMaps } from '../store/row-maps.js'
import type { Change, Snapshot } from '../store/store.js'

/**
 * The in-memory projection of the trust-framework catalog: participants and their roles, data services and
 * the roles they require, and the Registry's licence interpretations. Decisions read it; the change log
 * feeds it.
 */
export class CatalogModel {
  readonly #rows = new RowMaps(['ib1_participants', 'ib1_services', 'ib1_licences'] as const)
  readonly participants = this.#rows.of('ib1_participants')
  readonly services = this.#rows.of('ib1_services')
  readonly licences = this.#rows.of('ib1_licences')

  get revision(): number {
    return this.#rows.revision
  }

  static fromSnapshot(snapshot: Snapshot): CatalogModel {
    const model = new CatalogModel()
    model.#rows.load(snapshot)
    return model
  }

  apply(changes: readonly Change[]): void {
    this.#rows.apply(changes)
  }
}

/** A JSON array column, read. */
export const list = (json: string): string[] => JSON.parse(json) as string[]

// This projection in the kernel's Index, as `catalog` (custodian.ts registers the class).
declare module '../kernel/projections.js' {
  interface Index {
    catalog: CatalogModel
  }
}
