import { RowProjection } from '../store/row-maps.js'

/**
 * The in-memory projection of the trust-framework catalog: participants and their roles, data services and
 * the roles they require, and the Registry's licence interpretations. Decisions read it; the change log
 * feeds it.
 */
export class CatalogModel extends RowProjection<'ib1_participants' | 'ib1_services' | 'ib1_licences'> {
  constructor() {
    super(['ib1_participants', 'ib1_services', 'ib1_licences'])
  }
  readonly participants = this.rows.of('ib1_participants')
  readonly services = this.rows.of('ib1_services')
  readonly licences = this.rows.of('ib1_licences')
}

/** A JSON array column, read. */
export const list = (json: string): string[] => JSON.parse(json) as string[]

// This projection in the kernel's Index, as `catalog` (custodian.ts registers the class).
declare module '../kernel/projections.js' {
  interface Index {
    catalog: CatalogModel
  }
}
