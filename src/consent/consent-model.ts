import { RowProjection } from '../store/row-maps.js'
import type { AuthorizationRow, CustomerRow, UsagePointRow } from '../store/schema.js'

/**
 * The in-memory projection of ESPI consent: customers, usage points, third parties and Authorization
 * records, fed by the change log like the entitlement Index.
 */
export class ConsentModel extends RowProjection<
  'espi_customers' | 'espi_usage_points' | 'espi_third_parties' | 'espi_authorizations'
> {
  constructor() {
    super(['espi_customers', 'espi_usage_points', 'espi_third_parties', 'espi_authorizations'])
  }
  readonly customers = this.rows.of('espi_customers')
  readonly usagePoints = this.rows.of('espi_usage_points')
  readonly thirdParties = this.rows.of('espi_third_parties')
  readonly authorizations = this.rows.of('espi_authorizations')

  customerOfUser(userId: string): CustomerRow | undefined {
    for (const c of this.customers.values()) if (c.user_id === userId) return c
    return undefined
  }

  usagePointsOf(customerId: string): UsagePointRow[] {
    return [...this.usagePoints.values()].filter((u) => u.customer_id === customerId)
  }

  authorizationsOf(filter: { customerId?: string; clientId?: string }): AuthorizationRow[] {
    return [...this.authorizations.values()].filter(
      (a) =>
        (!filter.customerId || a.customer_id === filter.customerId) &&
        (!filter.clientId || a.client_id === filter.clientId),
    )
  }
}

// This projection in the kernel's Index, as `consent` (custodian.ts registers the class).
declare module '../kernel/projections.js' {
  interface Index {
    consent: ConsentModel
  }
}
