import type { Kysely } from 'kysely'
import type { EspiFetchRow } from './espi-fetch-row.js'
import type { Database } from './schema.js'

/**
 * The ESPI fetch log: which third party fetched what of a customer's data, and when. Outside the change log
 * and the audit chain (the audit log keeps every request too): it is kept for the customer's access history
 * only, read by customer, and pruned by age.
 */
export interface EspiFetchStore {
  /** Appends rows, in one statement per few hundred. */
  record(rows: readonly EspiFetchRow[]): Promise<void>
  /** The customer's fetches, newest first: this customer's only. */
  ofCustomer(customerId: string, limit: number): Promise<EspiFetchRow[]>
  /** Removes the fetches made before `beforeMs`; answers how many went. */
  prune(beforeMs: number): Promise<number>
}

// SQLite allows 32,766 bound values a statement: 8 columns × 500 rows stays well within it.
const INSERT_BATCH = 500

export function espiFetchStore(db: Kysely<Database>): EspiFetchStore {
  return {
    async record(rows) {
      for (let i = 0; i < rows.length; i += INSERT_BATCH)
        await db
          .insertInto('espi_fetches')
          .values(rows.slice(i, i + INSERT_BATCH))
          .execute()
    },
    ofCustomer(customerId, limit) {
      // Both drivers return numbers for bigint columns (see dialects.ts).
      return db
        .selectFrom('espi_fetches')
        .selectAll()
        .where('customer_id', '=', customerId)
        .orderBy('at', 'desc')
        .limit(limit)
        .execute()
    },
    async prune(beforeMs) {
      const result = await db.deleteFrom('espi_fetches').where('at', '<', beforeMs).executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
