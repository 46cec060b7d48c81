import { describe, expect, it } from 'vitest'
import {
  LoginThrottle,
  lockedFor,
  recordFailure,
  type ThrottleEntry,
  type ThrottlePolicy,
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

describe('LoginThrottle', () => {
  const userPolicy: ThrottlePolicy = {
    maxFailures: 2,
    lockoutSeconds: 10,
    maxLockoutSeconds: 60,
    windowSeconds: 300,
  }
  const addressPolicy: ThrottlePolicy = {
    maxFailures: 4,
    lockoutSeconds: 20,
    maxLockoutSeconds: 60,
    windowSeconds: 300,
  }
  const make = () => new LoginThrottle({ user: userPolicy, address: addressPolicy })

  it('locks a user after the user policy maxFailures and says which key is locked', () => {
    const throttle = make()
    throttle.failed({ user: 'sam' }, T0)
    expect(throttle.wait({ user: 'sam' }, T0)).toBeUndefined()
    throttle.failed({ user: 'sam' }, T0)
    expect(throttle.wait({ user: 'sam' }, T0 + s(4))).toEqual({ ms: s(6), key: 'user:sam' })
    expect(throttle.wait({ user: 'sam' }, T0 + s(10))).toBeUndefined()
  })

  it('keeps users apart', () => {
    const throttle = make()
    throttle.failed({ user: 'sam' }, T0)
    throttle.failed({ user: 'sam' }, T0)
    expect(throttle.wait({ user: 'jimmy' }, T0)).toBeUndefined()
  })

  it('clears the user key on success, so counting starts again', () => {
    const throttle = make()
    throttle.failed({ user: 'sam' }, T0)
    throttle.failed({ user: 'sam' }, T0)
    expect(throttle.wait({ user: 'sam' }, T0)).toBeDefined()
    throttle.succeeded({ user: 'sam' })
    expect(throttle.wait({ user: 'sam' }, T0)).toBeUndefined()
    throttle.failed({ user: 'sam' }, T0 + 1)
    expect(throttle.wait({ user: 'sam' }, T0 + 1)).toBeUndefined()
  })

  it('counts an address across users under the address policy, independently of the user keys', () => {
    const throttle = make()
    for (const user of ['a', 'b', 'c']) throttle.failed({ user, address: '10.0.0.1' }, T0)
    expect(throttle.wait({ address: '10.0.0.1' }, T0)).toBeUndefined()
    throttle.failed({ user: 'd', address: '10.0.0.1' }, T0)
    expect(throttle.wait({ address: '10.0.0.1' }, T0)).toEqual({ ms: s(20), key: 'address:10.0.0.1' })
    // User e never failed, but comes from the locked address.
    expect(throttle.wait({ user: 'e', address: '10.0.0.1' }, T0)).toEqual({
      ms: s(20),
      key: 'address:10.0.0.1',
    })
    expect(throttle.wait({ user: 'e', address: '10.0.0.2' }, T0)).toBeUndefined()
    // Each user failed once: none is locked on its own.
    expect(throttle.wait({ user: 'a' }, T0)).toBeUndefined()
  })

  it('does not clear the address key when a user succeeds', () => {
    const throttle = make()
    for (let i = 0; i < 4; i++) throttle.failed({ user: 'sam', address: '10.0.0.1' }, T0)
    throttle.succeeded({ user: 'sam' })
    expect(throttle.wait({ user: 'sam' }, T0)).toBeUndefined()
    expect(throttle.wait({ user: 'sam', address: '10.0.0.1' }, T0)?.key).toBe('address:10.0.0.1')
  })

  it('does not lock a user for failures recorded against an address only', () => {
    const throttle = make()
    for (let i = 0; i < 3; i++) throttle.failed({ address: '10.0.0.1' }, T0)
    expect(throttle.wait({ user: 'sam' }, T0)).toBeUndefined()
  })

  it('reports the user key first when both are locked', () => {
    const throttle = make()
    for (let i = 0; i < 4; i++) throttle.failed({ user: 'sam', address: '10.0.0.1' }, T0)
    expect(throttle.wait({ user: 'sam', address: '10.0.0.1' }, T0)?.key).toBe('user:sam')
  })
})
