import { keyOf, RowMaps } from '../store/row-maps.js'
import type { Change, Snapshot } from '../store/store.js'

/** The Authorization Register in memory: each data owner's delegation evidence per access subject. */
export class RegisterModel {
  readonly #rows = new RowMaps(['ishare_policies'] as const)
  readonly #policies = this.#rows.of('ishare_policies')

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

  policiesOf(issuer?: string) {
    return [...this.#policies.values()].filter((p) => !issuer || p.policy_issuer === issuer)
  }
}
