import { describe, expect, it } from 'vitest'
import type { ThrottleEntries, ThrottleEntry } from '../store/throttle-store.js'
import {
  admitAttempt,
  type LoginLimits,
  lockedFor,
  passwordRules,
  recordFailure,
  registrationRules,
  settleSuccess,
  type ThrottlePolicy,
  type ThrottleRule,
  voicePrintRules,
} from './throttle.js'

const policy: ThrottlePolicy = {
  maxFailures: 3,
  lockoutSeconds: 30,
  maxLockoutSeconds: 100,
  windowSeconds: 600,
}
const T0 = Date.parse('2026-11-23T10:00:00Z')
const s = (seconds: number) => seconds * 1000

/** Records one failure at each of `times` (ms), returning every intermediate entry. */
function failures(times: number[], p: ThrottlePolicy = policy, start?: ThrottleEntry): ThrottleEntry[] {
  const out: ThrottleEntry[] = []
  let entry = start
  for (const t of times) {
    entry = recordFailure(entry, p, t)
    out.push(entry)
  }
  return out
}

describe('recordFailure and lockedFor', () => {
  it('does not lock before maxFailures failures', () => {
    const [first, second] = failures([T0, T0 + s(1)])
    expect(first).toEqual({ failures: 1, firstFailureMs: T0, lockedUntilMs: 0 })
    expect(second).toEqual({ failures: 2, firstFailureMs: T0, lockedUntilMs: 0 })
    expect(lockedFor(second, T0 + s(1))).toBe(0)
  })

  it('locks for lockoutSeconds on the maxFailures-th failure inside the window', () => {
    const third = failures([T0, T0 + s(1), T0 + s(2)])[2] as ThrottleEntry
    expect(third.failures).toBe(3)
    expect(third.lockedUntilMs).toBe(T0 + s(2) + s(30))
    expect(lockedFor(third, T0 + s(2))).toBe(s(30))
    expect(lockedFor(third, T0 + s(12))).toBe(s(20))
  })

  it('unlocks exactly when the lock ends', () => {
    const third = failures([T0, T0, T0])[2] as ThrottleEntry
    expect(lockedFor(third, T0 + s(30) - 1)).toBe(1)
    expect(lockedFor(third, T0 + s(30))).toBe(0)
    expect(lockedFor(undefined, T0)).toBe(0)
  })

  it('doubles the lock on each further failure, up to maxLockoutSeconds', () => {
    const entries = failures([0, 1, 2, 3, 4, 5].map((i) => T0 + s(i)))
    const lockSeconds = entries.map((e, i) =>
      e.lockedUntilMs === 0 ? 0 : (e.lockedUntilMs - (T0 + s(i))) / 1000,
    )
    expect(lockSeconds).toEqual([0, 0, 30, 60, 100, 100])
  })

  it('starts a new count once the window since the first failure has passed', () => {
    const [, second] = failures([T0, T0 + s(1)])
    const late = recordFailure(second, policy, T0 + s(600) + 1)
    expect(late).toEqual({ failures: 1, firstFailureMs: T0 + s(600) + 1, lockedUntilMs: 0 })
  })

  it('still counts a failure exactly at the end of the window', () => {
    const [, second] = failures([T0, T0 + s(1)])
    const edge = recordFailure(second, policy, T0 + s(600))
    expect(edge.failures).toBe(3)
    expect(edge.firstFailureMs).toBe(T0)
    expect(edge.lockedUntilMs).toBe(T0 + s(600) + s(30))
  })

  it('resets the doubling too when the window expires', () => {
    const short: ThrottlePolicy = { ...policy, windowSeconds: 60 }
    const locked = failures([T0, T0, T0, T0], short)[3] as ThrottleEntry
    expect(locked.lockedUntilMs).toBe(T0 + s(60))
    const after = recordFailure(locked, short, T0 + s(61))
    expect(after.failures).toBe(1)
    expect(lockedFor(after, T0 + s(61))).toBe(0)
  })

  it('does not change the entry it is given', () => {
    const entry: ThrottleEntry = { failures: 1, firstFailureMs: T0, lockedUntilMs: 0 }
    recordFailure(entry, policy, T0 + 1)
    expect(entry).toEqual({ failures: 1, firstFailureMs: T0, lockedUntilMs: 0 })
  })
})

describe('admitAttempt and settleSuccess: counted before the check', () => {
  const limits: LoginLimits = {
    maxFailuresPerUser: 2,
    maxFailuresPerAddress: 4,
    lockoutSeconds: 10,
    maxLockoutSeconds: 60,
    slowAfterFailures: 3,
    slowSeconds: 5,
    windowSeconds: 300,
    knownAddressSeconds: 3_600,
  }
  /** A store of entries, and one attempt against it: admitted (then settled if `ok`) or refused. */
  const make = () => {
    let entries: ThrottleEntries = new Map()
    return {
      get entries() {
        return entries
      },
      attempt(rules: ThrottleRule[], nowMs: number, ok = false) {
        const admission = admitAttempt(rules, entries, nowMs)
        if (!admission.admitted) return { refusedBy: admission.rule.key, ms: admission.retryAfterMs }
        entries = admission.entries
        if (ok) entries = settleSuccess(admission.counted, entries, nowMs)
        return { admitted: true }
      },
    }
  }
  const pw = (user: string, address?: string) => passwordRules(limits, user, address)

  it('admits exactly maxFailures attempts of a user at an address, however close together, then locks', () => {
    const throttle = make()
    const outcomes = Array.from({ length: 6 }, () => throttle.attempt(pw('sam', '10.0.0.1'), T0))
    expect(outcomes.filter((o) => o.admitted)).toHaveLength(2)
    expect(outcomes[2]).toEqual({ refusedBy: 'pair:10.0.0.1|sam', ms: s(10) })
    // A refused attempt is not counted: the lock does not grow while it holds.
    expect(throttle.entries.get('pair:10.0.0.1|sam')).toEqual({
      failures: 2,
      firstFailureMs: T0,
      lockedUntilMs: T0 + s(10),
    })
    expect(throttle.attempt(pw('sam', '10.0.0.1'), T0 + s(10)).admitted).toBe(true)
    expect(throttle.attempt(pw('sam', '10.0.0.1'), T0 + s(10))).toEqual({
      refusedBy: 'pair:10.0.0.1|sam',
      ms: s(20),
    })
  })

  it('keeps users apart, and a user at another address apart', () => {
    const throttle = make()
    throttle.attempt(pw('sam', '10.0.0.1'), T0)
    throttle.attempt(pw('sam', '10.0.0.1'), T0)
    expect(throttle.attempt(pw('jimmy', '10.0.0.1'), T0).admitted).toBe(true)
    expect(throttle.attempt(pw('sam', '10.0.0.2'), T0).admitted).toBe(true)
  })

  it('clears the user at that address on success, so counting starts again', () => {
    const throttle = make()
    throttle.attempt(pw('sam', '10.0.0.1'), T0)
    expect(throttle.attempt(pw('sam', '10.0.0.1'), T0, true).admitted).toBe(true)
    expect(throttle.entries.get('pair:10.0.0.1|sam')).toEqual({
      failures: 0,
      firstFailureMs: 0,
      lockedUntilMs: 0,
      lastSuccessMs: T0,
    })
    throttle.attempt(pw('sam', '10.0.0.1'), T0 + 1)
    expect(throttle.attempt(pw('sam', '10.0.0.1'), T0 + 1).admitted).toBe(true)
  })

  it('locks an address that fails across users, whoever comes from it next', () => {
    const throttle = make()
    for (const user of ['a', 'b', 'c', 'd']) throttle.attempt(pw(user, '10.0.0.1'), T0)
    expect(throttle.attempt(pw('e', '10.0.0.1'), T0)).toEqual({ refusedBy: 'address:10.0.0.1', ms: s(10) })
    expect(throttle.attempt(pw('e', '10.0.0.2'), T0).admitted).toBe(true)
  })

  it('takes back only the successful attempt from the address', () => {
    const throttle = make()
    for (const user of ['a', 'b', 'c']) throttle.attempt(pw(user, '10.0.0.1'), T0)
    throttle.attempt(pw('sam', '10.0.0.1'), T0, true)
    expect(throttle.entries.get('address:10.0.0.1')?.failures).toBe(3)
    expect(throttle.attempt(pw('d', '10.0.0.1'), T0).admitted).toBe(true)
    expect(throttle.attempt(pw('e', '10.0.0.1'), T0)?.refusedBy).toBe('address:10.0.0.1')
  })

  it('only slows a user failing across addresses: a few seconds, never growing', () => {
    const throttle = make()
    for (let i = 1; i <= 3; i++) throttle.attempt(pw('admin', `10.0.1.${i}`), T0)
    expect(throttle.attempt(pw('admin', '10.0.1.9'), T0 + s(1))).toEqual({
      refusedBy: 'user:admin',
      ms: s(4),
    })
    for (let i = 0; i < 20; i++) {
      expect(throttle.attempt(pw('admin', `10.0.2.${i}`), T0 + s(5 * (i + 1))).admitted).toBe(true)
      expect(throttle.attempt(pw('admin', '10.0.3.1'), T0 + s(5 * (i + 1)))).toEqual({
        refusedBy: 'user:admin',
        ms: s(5),
      })
    }
  })

  it('does not slow a user at an address it logged in from recently', () => {
    const throttle = make()
    throttle.attempt(pw('admin', '10.0.0.1'), T0, true)
    for (let i = 1; i <= 5; i++) throttle.attempt(pw('admin', `10.0.1.${i}`), T0 + s(1))
    expect(throttle.attempt(pw('admin', '10.0.1.9'), T0 + s(1))?.refusedBy).toBe('user:admin')
    expect(throttle.attempt(pw('admin', '10.0.0.1'), T0 + s(1), true).admitted).toBe(true)
    // Known for knownAddressSeconds after that success, no longer.
    for (let i = 1; i <= 5; i++) throttle.attempt(pw('admin', `10.0.4.${i}`), T0 + s(3_000))
    expect(throttle.attempt(pw('admin', '10.0.0.1'), T0 + s(3_001)).admitted).toBe(true)
    for (let i = 1; i <= 5; i++) throttle.attempt(pw('admin', `10.0.5.${i}`), T0 + s(3_700))
    expect(throttle.attempt(pw('admin', '10.0.0.1'), T0 + s(3_702))?.refusedBy).toBe('user:admin')
  })

  it('counts voice prints per controller and per address', () => {
    const throttle = make()
    for (let i = 1; i <= 4; i++) throttle.attempt(voicePrintRules(limits, 'hm', `10.0.0.${i}`), T0)
    expect(throttle.attempt(voicePrintRules(limits, 'hm', '10.0.0.9'), T0)?.refusedBy).toBe('controller:hm')
    expect(throttle.attempt(voicePrintRules(limits, 'other', '10.0.0.9'), T0).admitted).toBe(true)
  })

  it('counts self-registration steps per account number and address, and per account number everywhere', () => {
    const throttle = make()
    const step = (account: string, address: string) =>
      throttle.attempt(registrationRules(limits, account, address), T0)
    step('ACCT-1', '10.0.0.1')
    step('ACCT-1', '10.0.0.1')
    expect(step('ACCT-1', '10.0.0.1')?.refusedBy).toBe('register:10.0.0.1|ACCT-1')
    // A new address goes on until the account number has failed slowAfterFailures times in all.
    expect(step('ACCT-1', '10.0.0.2').admitted).toBe(true)
    expect(step('ACCT-1', '10.0.0.3')?.refusedBy).toBe('account:ACCT-1')
    expect(step('ACCT-2', '10.0.0.3').admitted).toBe(true)
  })
})
