import { expect } from 'vitest'
import { CustodianError, type ErrorCode } from '../../src/errors.js'
import type { ReplicatedRows } from '../../src/store/schema.js'
import type { Change, PlannedChange } from '../../src/store/store.js'

/** Shared by the unit tests beside the pure modules. */
export const AT = '2026-11-23T10:00:00.000Z'

/** Anything fed by the change log: the entitlement Index, the House Mate model. */
interface Projection {
  revision: number
  apply(changes: readonly Change[]): void
}

/** Applies changes as the store would commit them: revisions following the projection's own. */
export function applyChanges<P extends Projection>(projection: P, changes: readonly PlannedChange[]): P {
  const start = projection.revision
  projection.apply(changes.map((change, i) => ({ ...change, revision: start + i + 1, at: AT }) as Change))
  return projection
}

export const put = <T extends keyof ReplicatedRows>(tbl: T, row: ReplicatedRows[T]) =>
  ({ tbl, op: 'put', row }) as PlannedChange

/** The CustodianError `run` throws; fails the test when it throws nothing or something else. */
export function failure(run: () => unknown): CustodianError {
  try {
    run()
  } catch (error) {
    if (error instanceof CustodianError) return error
    throw error
  }
  throw new Error('expected a CustodianError, but nothing was thrown')
}

export function expectFailure(run: () => unknown, code: ErrorCode, message: string | RegExp): void {
  const error = failure(run)
  expect(error.code).toBe(code)
  if (typeof message === 'string') expect(error.message).toBe(message)
  else expect(error.message).toMatch(message)
}
