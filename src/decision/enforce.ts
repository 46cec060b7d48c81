import { AccessDeniedError, InvalidAccessTokenError, notFound } from '../errors.js'
import type { Decision } from './decision.js'

/**
 * How a refusal reaches a caller that asked for an exception:
 * - `access` (the default): the caller is known and may not do this: AccessDeniedError, 403;
 * - `token`: the caller's credential is not usable: InvalidAccessTokenError, 401;
 * - `not-found`: the thing is not the caller's, answered as if it did not exist (so as not to reveal it): 404.
 */
export type Refusal = 'access' | 'token' | 'not-found'

export interface Enforcement {
  as?: Refusal
  /** What was refused, put before the reason: "sam may not list users". */
  refused?: string
  /** Machine-readable facts for the error (the permission, the resource, ...). */
  details?: Record<string, unknown>
}

/**
 * The one place a Decision becomes an error: returns when it allows, throws the error `context` names
 * when it does not. Rules return Decisions; only callers that want an exception come here.
 */
export function enforce<D extends Decision>(
  decision: D,
  { as = 'access', refused, details = {} }: Enforcement = {},
): asserts decision is D & { allowed: true } {
  if (decision.allowed) return
  const message = refused ? `${refused}: ${decision.reason}` : decision.reason
  if (as === 'token') throw new InvalidAccessTokenError(message, details)
  if (as === 'not-found') throw notFound(message)
  throw new AccessDeniedError(message, details)
}
