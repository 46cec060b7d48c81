import type { ThrottleEntries, ThrottleEntry } from '../store/throttle-store.js'

/**
 * Login throttling, as pure functions over a small record per key. A login attempt is counted BEFORE its
 * secret is checked (`admitAttempt`), in the same store transaction that reads the keys, so parallel
 * attempts on any number of nodes cannot exceed a limit; a success then takes its count back
 * (`settleSuccess`). The caller (custodian.ts) chooses the keys and their policies:
 *
 * - `pair:` a user at one address: locked after `maxFailures`; each further failure doubles the lock, up to a
 *   ceiling. A success clears it.
 * - `address:` one address across users, and `controller:` one House Mate controller's voice prints: locked
 *   the same way, under their own limits.
 * - `user:` one user across every address: only slowed (a lock of a few seconds that never grows), so that
 *   failures elsewhere never shut a user out, and not counted at all from an address the user logged in from
 *   recently.
 */
export interface ThrottlePolicy {
  maxFailures: number
  lockoutSeconds: number
  maxLockoutSeconds: number
  windowSeconds: number
}

export function lockedFor(entry: ThrottleEntry | undefined, nowMs: number): number {
  return entry && entry.lockedUntilMs > nowMs ? entry.lockedUntilMs - nowMs : 0
}

export function recordFailure(
  entry: ThrottleEntry | undefined,
  policy: ThrottlePolicy,
  nowMs: number,
): ThrottleEntry {
  const fresh = !entry || entry.failures === 0 || nowMs - entry.firstFailureMs > policy.windowSeconds * 1000
  const failures = fresh ? 1 : entry.failures + 1
  const firstFailureMs = fresh ? nowMs : entry.firstFailureMs
  const over = failures - policy.maxFailures
  const lockedUntilMs =
    over >= 0 ? nowMs + Math.min(policy.lockoutSeconds * 2 ** over, policy.maxLockoutSeconds) * 1000 : 0
  return entry?.lastSuccessMs
    ? { failures, firstFailureMs, lockedUntilMs, lastSuccessMs: entry.lastSuccessMs }
    : { failures, firstFailureMs, lockedUntilMs }
}

/** One key an attempt is counted on, and how. */
export interface ThrottleRule {
  key: string
  /** The user the key is about, if any: an administrator's unlock clears that user's keys. */
  user?: string
  policy: ThrottlePolicy
  /** A success: `clear` forgets the key's failures and notes the success; `refund` takes back this attempt's count. */
  onSuccess: 'clear' | 'refund'
  /** The rule does not apply while the entry of `key` noted a success less than `forMs` ago (a known address). */
  exemptIfKnown?: { key: string; forMs: number }
}

export type Admission =
  | {
      admitted: true
      /** The entries with this attempt counted, to write back. */
      entries: Map<string, ThrottleEntry>
      /** The rules the attempt was counted on: what a success settles. */
      counted: ThrottleRule[]
    }
  | { admitted: false; retryAfterMs: number; rule: ThrottleRule }

const exempt = (rule: ThrottleRule, entries: ThrottleEntries, nowMs: number) => {
  const known = rule.exemptIfKnown
  const success = known ? entries.get(known.key)?.lastSuccessMs : undefined
  return known !== undefined && success !== undefined && success > 0 && nowMs - success < known.forMs
}

/**
 * Admits an attempt, counting it on every rule as if it failed, or refuses it (counting nothing) when a rule's
 * key is locked, saying which and for how long. Rules are looked at in order: the first locked one answers.
 */
export function admitAttempt(
  rules: readonly ThrottleRule[],
  entries: ThrottleEntries,
  nowMs: number,
): Admission {
  const counted = rules.filter((rule) => !exempt(rule, entries, nowMs))
  for (const rule of counted) {
    const ms = lockedFor(entries.get(rule.key), nowMs)
    if (ms > 0) return { admitted: false, retryAfterMs: ms, rule }
  }
  const next = new Map(entries)
  for (const rule of counted) next.set(rule.key, recordFailure(entries.get(rule.key), rule.policy, nowMs))
  return { admitted: true, entries: next, counted }
}

/** After a successful check: clears or refunds the keys the attempt was counted on. */
export function settleSuccess(
  counted: readonly ThrottleRule[],
  entries: ThrottleEntries,
  nowMs: number,
): Map<string, ThrottleEntry> {
  const next = new Map(entries)
  for (const rule of counted) {
    const entry = entries.get(rule.key)
    if (rule.onSuccess === 'clear') {
      next.set(rule.key, { failures: 0, firstFailureMs: 0, lockedUntilMs: 0, lastSuccessMs: nowMs })
    } else if (entry && entry.failures > 0) {
      const failures = entry.failures - 1
      next.set(rule.key, {
        ...entry,
        failures,
        lockedUntilMs: failures >= rule.policy.maxFailures ? entry.lockedUntilMs : 0,
      })
    }
  }
  return next
}

/** The limits, as the settings give them (see config.ts). */
export interface LoginLimits {
  /** Failures of one user at one address before that pair is locked. */
  maxFailuresPerUser: number
  /** Failures from one address (across users), or of one controller's voice prints, before it is locked. */
  maxFailuresPerAddress: number
  /** The first lock; doubles on each further failure, up to `maxLockoutSeconds`. */
  lockoutSeconds: number
  maxLockoutSeconds: number
  /** Failures of one user across every address before its attempts are slowed to one per `slowSeconds`. */
  slowAfterFailures: number
  slowSeconds: number
  /** How long failures are remembered, counting from the first. */
  windowSeconds: number
  /** How long an address a user logged in from is exempt from that user's slow-down. */
  knownAddressSeconds: number
}

const lock = (limits: LoginLimits, maxFailures: number): ThrottlePolicy => ({
  maxFailures,
  lockoutSeconds: limits.lockoutSeconds,
  maxLockoutSeconds: limits.maxLockoutSeconds,
  windowSeconds: limits.windowSeconds,
})

/** The rules of a password attempt: the user at this address, the address, and the user everywhere (slowed). */
export function passwordRules(
  limits: LoginLimits,
  user: string,
  address: string | undefined,
): ThrottleRule[] {
  const pair = `pair:${address ?? 'local'}|${user}`
  return [
    { key: pair, user, policy: lock(limits, limits.maxFailuresPerUser), onSuccess: 'clear' },
    ...(address === undefined
      ? []
      : [
          {
            key: `address:${address}`,
            policy: lock(limits, limits.maxFailuresPerAddress),
            onSuccess: 'refund' as const,
          },
        ]),
    {
      key: `user:${user}`,
      user,
      policy: {
        maxFailures: limits.slowAfterFailures,
        lockoutSeconds: limits.slowSeconds,
        maxLockoutSeconds: limits.slowSeconds,
        windowSeconds: limits.windowSeconds,
      },
      onSuccess: 'refund',
      exemptIfKnown: { key: pair, forMs: limits.knownAddressSeconds * 1000 },
    },
  ]
}

/** The rules of a voice-print attempt: the controller that relays it, and the address it came from. */
export function voicePrintRules(
  limits: LoginLimits,
  controller: string,
  address: string | undefined,
): ThrottleRule[] {
  const policy = lock(limits, limits.maxFailuresPerAddress)
  return [
    { key: `controller:${controller}`, policy, onSuccess: 'refund' },
    ...(address === undefined ? [] : [{ key: `address:${address}`, policy, onSuccess: 'refund' as const }]),
  ]
}

/**
 * The rules of a self-registration step (a one-time code asked for, or tried): the account number at this
 * address, the address, and the account number everywhere. Locking the last shuts out registration only,
 * never a login, so it stands against guessing codes from many addresses.
 */
export function registrationRules(
  limits: LoginLimits,
  accountNumber: string,
  address: string | undefined,
): ThrottleRule[] {
  return [
    {
      key: `register:${address ?? 'local'}|${accountNumber}`,
      policy: lock(limits, limits.maxFailuresPerUser),
      onSuccess: 'clear',
    },
    ...(address === undefined
      ? []
      : [
          {
            key: `address:${address}`,
            policy: lock(limits, limits.maxFailuresPerAddress),
            onSuccess: 'refund' as const,
          },
        ]),
    { key: `account:${accountNumber}`, policy: lock(limits, limits.slowAfterFailures), onSuccess: 'refund' },
  ]
}
