import type {
  AuthorizationRow,
  CustomerRow,
  ReplicatedRows,
  ThirdPartyRow,
  UsagePointRow,
} from '../store/schema.js'
import type { Change, Snapshot } from '../store/store.js'

type Tbl = 'espi_customers' | 'espi_usage_points' | 'espi_third_parties' | 'espi_authorizations'

/**
 * The in-memory projection of ESPI consent: customers, usage points, third parties and Authorization
 * records, fed by the change log like the entitlement Index.
 */
export class ConsentModel {
  revision = 0
  readonly customers = new Map<string, CustomerRow>()
  readonly usagePoints = new Map<string, UsagePointRow>()
  readonly thirdParties = new Map<string, ThirdPartyRow>()
  readonly authorizations = new Map<string, AuthorizationRow>()

  readonly #maps: Record<Tbl, Map<string, unknown>> = {
    espi_customers: this.customers,
    espi_usage_points: this.usagePoints,
    espi_third_parties: this.thirdParties,
    espi_authorizations: this.authorizations,
  }

  static fromSnapshot(snapshot: Snapshot): ConsentModel {
    const model = new ConsentModel()
    for (const tbl of Object.keys(model.#maps) as Tbl[]) {
      for (const row of snapshot.rows[tbl]) model.#put(tbl, row)
    }
    model.revision = snapshot.revision
    return model
  }

  apply(changes: readonly Change[]): void {
    for (const change of changes) {
      if (change.revision <= this.revision) continue
      this.revision = change.revision
      if (!Object.hasOwn(this.#maps, change.tbl)) continue
      const tbl = change.tbl as Tbl
      if (change.op === 'put') this.#put(tbl, change.row as ReplicatedRows[Tbl])
      else this.#maps[tbl].delete(keyOf(tbl, change.row as Record<string, string>))
    }
  }

  #put(tbl: Tbl, row: ReplicatedRows[Tbl]): void {
    this.#maps[tbl].set(keyOf(tbl, row as unknown as Record<string, string>), row)
  }

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

const keyOf = (tbl: Tbl, row: Record<string, string>) =>
  (tbl === 'espi_third_parties' ? row.client_id : row.id) as string
