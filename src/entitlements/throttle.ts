/**
 * Login throttling, as pure functions over a small record per key (`user:<id>`, `address:<ip>`). After
 * `maxFailures` failures inside the window, the key is locked; each further failure doubles the lock, up to
 * a ceiling. A success clears the key.
 */
export interface ThrottlePolicy {
  maxFailures: number
  lockoutSeconds: number
  maxLockoutSeconds: number
  windowSeconds: number
}

export interface ThrottleEntry {
  failures: number
  firstFailureMs: number
  lockedUntilMs: number
}

export function lockedFor(entry: ThrottleEntry | undefined, nowMs: number): number {
  return entry && entry.lockedUntilMs > nowMs ? entry.lockedUntilMs - nowMs : 0
}

export function recordFailure(
  entry: ThrottleEntry | undefined,
  policy: ThrottlePolicy,
  nowMs: number,
): ThrottleEntry {
  const fresh = !entry || nowMs - entry.firstFailureMs > policy.windowSeconds * 1000
  const failures = fresh ? 1 : entry.failures + 1
  const firstFailureMs = fresh ? nowMs : entry.firstFailureMs
  const over = failures - policy.maxFailures
  const lockedUntilMs =
    over >= 0 ? nowMs + Math.min(policy.lockoutSeconds * 2 ** over, policy.maxLockoutSeconds) * 1000 : 0
  return { failures, firstFailureMs, lockedUntilMs }
}

/** Keeps failure records for many keys, forgetting the ones whose window and lock have passed. */
export class LoginThrottle {
  readonly #entries = new Map<string, ThrottleEntry>()
  constructor(readonly policies: { user: ThrottlePolicy; address: ThrottlePolicy }) {}

  /** Milliseconds to wait before the next attempt for this user or address, and which one is locked. */
  wait(keys: { user?: string; address?: string }, nowMs: number): { ms: number; key: string } | undefined {
    for (const key of this.#keys(keys)) {
      const ms = lockedFor(this.#entries.get(key), nowMs)
      if (ms > 0) return { ms, key }
    }
    return undefined
  }

  failed(keys: { user?: string; address?: string }, nowMs: number): void {
    if (this.#entries.size > 100_000) this.#forgetStale(nowMs)
    for (const key of this.#keys(keys)) {
      const policy = key.startsWith('user:') ? this.policies.user : this.policies.address
      this.#entries.set(key, recordFailure(this.#entries.get(key), policy, nowMs))
    }
  }

  succeeded(keys: { user?: string }): void {
    if (keys.user) this.#entries.delete(`user:${keys.user}`)
  }

  *#keys(keys: { user?: string; address?: string }): Generator<string> {
    if (keys.user) yield `user:${keys.user}`
    if (keys.address) yield `address:${keys.address}`
  }

  #forgetStale(nowMs: number): void {
    const window = Math.max(this.policies.user.windowSeconds, this.policies.address.windowSeconds) * 1000
    for (const [key, entry] of this.#entries) {
      if (entry.lockedUntilMs <= nowMs && nowMs - entry.firstFailureMs > window) this.#entries.delete(key)
    }
  }
}
