import { keyOf, RowProjection } from '../store/row-maps.js'
import type { DelegationPolicyRow as PolicyRow } from '../store/schema.js'
import type { EvidenceSource } from './delegation-chain.js'
import type { DelegationEvidence } from './delegation-shapes.js'
import type { Association, Matrix, Membership } from './rules.js'

/**
 * Trust in memory: the Authorization Register (each data owner's delegation evidence per access subject) and
 * the inputs of BDI trust decisions (associations, parties, memberships, classified data services).
 */
export class RegisterModel extends RowProjection<
  'ishare_policies' | 'bdi_associations' | 'bdi_parties' | 'bdi_memberships' | 'bdi_services'
> {
  constructor() {
    super(['ishare_policies', 'bdi_associations', 'bdi_parties', 'bdi_memberships', 'bdi_services'])
  }
  readonly #policies = this.rows.of('ishare_policies')
  readonly associations = this.rows.of('bdi_associations')
  readonly parties = this.rows.of('bdi_parties')
  readonly memberships = this.rows.of('bdi_memberships')
  readonly services = this.rows.of('bdi_services')

  policy(issuer: string, subject: string) {
    return this.#policies.get(keyOf('ishare_policies', { policy_issuer: issuer, access_subject: subject }))
  }

  /** Each stored row's evidence, read once: a row is replaced, never changed, when its evidence is. */
  readonly #read = new WeakMap<object, DelegationEvidence>()
  #byIssuer: { revision: number; rows: Map<string, PolicyRow[]> } | undefined

  #evidenceOf(row: PolicyRow): DelegationEvidence {
    let evidence = this.#read.get(row)
    if (!evidence) {
      evidence = JSON.parse(row.evidence) as DelegationEvidence
      this.#read.set(row, evidence)
    }
    return evidence
  }

  /** The stored rows by issuer, indexed once per revision. */
  #rowsOf(issuer: string): PolicyRow[] {
    if (this.#byIssuer?.revision !== this.revision) {
      const rows = new Map<string, PolicyRow[]>()
      for (const row of this.#policies.values()) {
        const list = rows.get(row.policy_issuer)
        if (list) list.push(row)
        else rows.set(row.policy_issuer, [row])
      }
      this.#byIssuer = { revision: this.revision, rows }
    }
    return this.#byIssuer.rows.get(issuer) ?? []
  }

  /**
   * The stored evidence, read, for evaluating requests and chains of delegation. Each is read once (not per
   * request) and the same object is answered each time, so what evaluation derives from it is kept too.
   */
  readonly evidence: EvidenceSource = {
    find: (issuer, subject) => {
      const row = this.policy(issuer, subject)
      return row && this.#evidenceOf(row)
    },
    issuedBy: (issuer) => this.#rowsOf(issuer).map((row) => this.#evidenceOf(row)),
    subjectsOf: (issuer) => this.#rowsOf(issuer).map((row) => row.access_subject),
  }

  #network:
    | { revision: number; associations: Map<string, Association>; memberships: Map<string, Membership[]> }
    | undefined

  /**
   * The association network and every party's memberships as decisions read them: built once per revision,
   * since every trust decision needs them and writes are far rarer than decisions.
   */
  get network(): {
    associations: ReadonlyMap<string, Association>
    memberships: ReadonlyMap<string, Membership[]>
  } {
    if (this.#network?.revision === this.revision) return this.#network
    const associations = new Map<string, Association>()
    for (const a of this.associations.values())
      associations.set(a.id, {
        id: a.id,
        ...(a.parent ? { parent: a.parent } : {}),
        ...(a.matrix ? { matrix: JSON.parse(a.matrix) as Matrix } : {}),
        ownLogicAllowed: a.own_logic_allowed === 1,
      })
    const memberships = new Map<string, Membership[]>()
    for (const m of this.memberships.values()) {
      const list = memberships.get(m.party_id) ?? []
      list.push({
        association: m.association_id,
        status: m.status as Membership['status'],
        ...(m.valid_from === null ? {} : { validFrom: m.valid_from }),
        ...(m.valid_until === null ? {} : { validUntil: m.valid_until }),
      })
      memberships.set(m.party_id, list)
    }
    this.#network = { revision: this.revision, associations, memberships }
    return this.#network
  }

  policiesOf(issuer?: string): PolicyRow[] {
    return issuer === undefined ? [...this.#policies.values()] : [...this.#rowsOf(issuer)]
  }
}

// This projection in the kernel's Index, as `register` (custodian.ts registers the class).
declare module '../kernel/projections.js' {
  interface Index {
    register: RegisterModel
  }
}
