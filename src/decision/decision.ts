/**
 * The value every decision returns. Denials are values, not exceptions: the edges turn them into
 * `AccessDeniedError` and friends when a caller asked for an exception.
 */
export interface Decision {
  allowed: boolean
  /** Why, in words a person can act on: who holds what where, and what was missing. */
  reason: string
  /** Duties that come with a permit (licence obligations, for example); none for plain entitlements. */
  obligations: readonly string[]
  /** The Index revision the decision was taken at. */
  revision: number
}

export const NO_OBLIGATIONS: readonly string[] = Object.freeze([])

export const allow = (reason: string, revision: number): Decision & { allowed: true } => ({
  allowed: true,
  reason,
  obligations: NO_OBLIGATIONS,
  revision,
})

export const deny = (reason: string, revision: number): Decision & { allowed: false } => ({
  allowed: false,
  reason,
  obligations: NO_OBLIGATIONS,
  revision,
})
