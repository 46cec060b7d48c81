import { consentOperations } from '../consent/operations.js'
import { registrationOperations } from '../consent/registration-operations.js'
import type { Custodian } from '../custodian.js'
import { entitlementOperations } from '../entitlements/operations.js'
import { housemateOperations } from '../housemate/operations.js'
import { auditOperations } from '../kernel/audit-operations.js'
import { checkInput, invoke, type Operation } from '../kernel/operations.js'
import { catalogOperations } from '../licences/operations.js'
import { outboxOperations } from '../notify/outbox-operations.js'
import { trustOperations } from '../trust/operations.js'

/**
 * Every console action is an operation of the tables the API is generated from, run through the same
 * validation, permission check and audit record as its HTTP route: the console holds no rule of its own.
 */
const byName = new Map<string, Operation>(
  [
    ...entitlementOperations,
    ...auditOperations,
    ...Object.values(housemateOperations),
    ...Object.values(consentOperations),
    ...Object.values(registrationOperations),
    ...Object.values(catalogOperations),
    ...Object.values(trustOperations),
    ...Object.values(outboxOperations),
  ].map((op) => [op.name, op]),
)

export type RunOperation = (name: string, input?: Record<string, unknown>) => Promise<unknown>

/** Runs operations as the holder of `token`, from `address`, as the API would for a bearer of that token. */
export function operationRunner(custodian: Custodian, token: string, address: string): RunOperation {
  return async (name, input = {}) => {
    const op = byName.get(name)
    // A console page naming an operation that does not exist is a programming error, not bad input.
    if (!op) throw new Error(`the console asked for operation ${name}, which no table has`)
    return invoke(op, { custodian, token, address, baseUrl: custodian.publicUrl }, checkInput(op, input))
  }
}
