import { keyOf, RowMaps } from '../store/row-maps.js'
import type { Change, Snapshot } from '../store/store.js'
import type { DelegationEvidence, EvidenceSource } from './delegation.js'

/**
 * Trust in memory: the Authorization Register (each data owner's delegation evidence per access subject) and
 * the inputs of BDI trust decisions (associations, parties, memberships, classified data services).
 */
export class RegisterModel {
  readonly #rows = new RowMaps([
    'ishare_policies',
    'bdi_associations',
    'bdi_parties',
    'bdi_memberships',
    'bdi_services',
  ] as const)
  readonly #policies = this.#rows.of('ishare_policies')
  readonly associations = this.#rows.of('bdi_associations')
  readonly parties = this.#rows.of('bdi_parties')
  readonly memberships = this.#rows.of('bdi_memberships')
  readonly services = this.#rows.of('bdi_services')

  get revision(): number {
    return this.#rows.revision
  }

  static fromSnapshot(snapshot: Snapshot): RegisterModel {
    const model = new RegisterModel()
    model.#rows.load(snapshot)
    return model
  }

  apply(changes: readonly Change[]): void {
    this.#rows.apply(changes)
  }

  policy(issuer: string, subject: string) {
    return this.#policies.get(keyOf('ishare_policies', { policy_issuer: issuer, access_subject: subject }))
  }

  /** The stored evidence, read, for evaluating requests and chains of delegation. */
  readonly evidence: EvidenceSource = {
    find: (issuer, subject) => {
      const row = this.policy(issuer, subject)
      return row && (JSON.parse(row.evidence) as DelegationEvidence)
    },
    issuedBy: (issuer) =>
      this.policiesOf(issuer).map((row) => JSON.parse(row.evidence) as DelegationEvidence),
  }

  policiesOf(issuer?: string) {
    return [...this.#policies.values()].filter((p) => !issuer || p.policy_issuer === issuer)
  }
}
