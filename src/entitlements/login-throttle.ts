import type { Config } from '../config.js'
import { CustodianError } from '../errors.js'
import type { Kernel } from '../kernel/kernel.js'
import {
  type Admission,
  admitAttempt,
  type LoginLimits,
  settleSuccess,
  type ThrottleRule,
} from './throttle.js'

/** An address a user logged in from is exempt from that user's slow-down this long. */
const KNOWN_ADDRESS_SECONDS = 30 * 86_400

export function loginLimits(config: Config): LoginLimits {
  return {
    maxFailuresPerUser: config.loginMaxFailuresPerUser,
    maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
    lockoutSeconds: config.loginLockoutSeconds,
    maxLockoutSeconds: config.loginMaxLockoutSeconds,
    slowAfterFailures: config.loginSlowAfterFailures,
    slowSeconds: config.loginSlowSeconds,
    windowSeconds: config.loginMaxLockoutSeconds,
    knownAddressSeconds: KNOWN_ADDRESS_SECONDS,
  }
}

/**
 * Login throttling against the counts in the store (shared by every node): the pure rules are in
 * throttle.ts; this does the store transactions and the audit records of refusals.
 */
export class LoginThrottle {
  readonly limits: LoginLimits
  readonly #kernel: Kernel

  constructor(kernel: Kernel) {
    this.#kernel = kernel
    this.limits = loginLimits(kernel.config)
  }

  /** Counts an attempt on its rules before the secret is checked; refuses it if one of them is locked. */
  async admit(
    rules: ThrottleRule[],
    actor: string,
    action: string,
    resource: string,
  ): Promise<ThrottleRule[]> {
    const nowMs = this.#kernel.now()
    const admission = await this.#kernel.store.throttle.update<Admission>(
      rules.map((r) => ({ key: r.key, userId: r.user ?? null })),
      (entries) => {
        const outcome = admitAttempt(rules, entries, nowMs)
        return { entries: outcome.admitted ? outcome.entries : undefined, result: outcome }
      },
    )
    if (admission.admitted) return admission.counted
    const retryAfterSeconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000))
    const message = `too many failed logins for ${describeKey(admission.rule)}; try again in ${retryAfterSeconds} s`
    this.#kernel.audit({ actor, action, resource, outcome: 'Throttled', reason: message })
    this.#kernel.metrics.lockedOut(action)
    throw new CustodianError('Throttled', message, { retryAfterSeconds })
  }

  /**
   * A successful check: the user at this address starts afresh, and the other keys take the attempt back.
   * Not waiting for the disk: lost in a power failure, the attempt stays counted, which errs on the safe side.
   */
  async settle(counted: ThrottleRule[]): Promise<void> {
    const nowMs = this.#kernel.now()
    await this.#kernel.store.throttle.update(
      counted.map((r) => ({ key: r.key, userId: r.user ?? null })),
      (entries) => ({ entries: settleSuccess(counted, entries, nowMs), result: undefined }),
      { lossable: true },
    )
  }

  /** Clears every login lock and failure count of a user (at every address); answers how many were locked. */
  unlockUser(userId: string): Promise<number> {
    return this.#kernel.store.throttle.unlockUser(userId, this.#kernel.now())
  }

  /** Forgets keys with nothing to remember: no lock, no failure in the window, no recent success. */
  purge(): Promise<number> {
    const nowMs = this.#kernel.now()
    return this.#kernel.store.throttle.purge(
      nowMs,
      nowMs - this.limits.windowSeconds * 1000,
      nowMs - this.limits.knownAddressSeconds * 1000,
    )
  }
}

/** Which throttled key refused an attempt, in words. */
function describeKey(rule: ThrottleRule): string {
  const [kind, ...rest] = rule.key.split(':')
  const name = rest.join(':')
  if (kind === 'pair') return `user ${rule.user}`
  if (kind === 'user') return `user ${rule.user} across addresses`
  if (kind === 'controller') return `voice prints relayed by controller ${name}`
  if (kind === 'register') return `account number ${name.slice(name.indexOf('|') + 1)}`
  if (kind === 'account') return `account number ${name} across addresses`
  return `address ${name}`
}
