import { describe, expect, it } from 'vitest'
import {
  backends,
  race,
  type Store,
  storeFixture,
  type ThrottleEntries,
  type ThrottleEntry,
} from './backends.js'

const NOW = Date.UTC(2026, 11, 1, 10, 0, 0)
/** How a key with no count reads: absent on one backend, a zeroed row on another; the same to the rules. */
const NONE: ThrottleEntry = { failures: 0, firstFailureMs: 0, lockedUntilMs: 0 }
const read = (entries: ThrottleEntries, key: string) => entries.get(key) ?? NONE

/** The entries of `keys` as the store holds them, read without changing them. */
const entriesOf = (store: Store, ...keys: string[]) =>
  store.throttle.update(
    keys.map((key) => ({ key, userId: null })),
    (entries) => ({ result: Object.fromEntries(keys.map((key) => [key, read(entries, key)])) }),
  )

/** Counts one failure on each key, in one transaction. */
const fail = (store: Store, keys: readonly { key: string; userId: string | null }[], nowMs = NOW) =>
  store.throttle.update(keys, (entries) => {
    const next = new Map(entries)
    for (const { key } of keys) {
      const entry = read(entries, key)
      next.set(key, { ...entry, failures: entry.failures + 1, firstFailureMs: entry.firstFailureMs || nowMs })
    }
    return { entries: next, result: null }
  })

describe.each(backends)('the login throttle store on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('reads a key never counted as no failures, and writes back what `decide` returns', async () => {
    const { store } = fixture
    expect(await entriesOf(store, 'pair:sam@1.2.3.4')).toEqual({ 'pair:sam@1.2.3.4': NONE })
    const result = await store.throttle.update(
      [
        { key: 'pair:sam@1.2.3.4', userId: 'sam' },
        { key: 'user:sam', userId: 'sam' },
      ],
      () => ({
        entries: new Map([
          ['pair:sam@1.2.3.4', { failures: 0, firstFailureMs: 0, lockedUntilMs: 0, lastSuccessMs: NOW }],
          ['user:sam', { failures: 3, firstFailureMs: NOW - 1_000, lockedUntilMs: NOW + 60_000 }],
        ]),
        result: 'decided',
      }),
    )
    expect(result).toBe('decided')
    expect(await entriesOf(store, 'pair:sam@1.2.3.4', 'user:sam')).toEqual({
      'pair:sam@1.2.3.4': { failures: 0, firstFailureMs: 0, lockedUntilMs: 0, lastSuccessMs: NOW },
      'user:sam': { failures: 3, firstFailureMs: NOW - 1_000, lockedUntilMs: NOW + 60_000 },
    })
  })

  it('writes only the keys it was asked about, and nothing when `decide` throws', async () => {
    const { store } = fixture
    await store.throttle.update([{ key: 'address:1.2.3.4', userId: null }], () => ({
      entries: new Map([['elsewhere', { failures: 9, firstFailureMs: NOW, lockedUntilMs: 0 }]]),
      result: null,
    }))
    expect(await entriesOf(store, 'elsewhere')).toEqual({ elsewhere: NONE })
    await expect(
      store.throttle.update([{ key: 'user:sam', userId: 'sam' }], () => {
        throw new Error('refused')
      }),
    ).rejects.toThrow('refused')
    expect((await entriesOf(store, 'user:sam'))['user:sam']?.failures).toBe(3)
  })

  it("unlocks a user: clears its keys' failures and locks, keeps its successes, answers how many were locked", async () => {
    const { store } = fixture
    await fail(store, [{ key: 'pair:jo@5.6.7.8', userId: 'jo' }])
    expect(await store.throttle.unlockUser('sam', NOW)).toBe(1)
    expect(await store.throttle.unlockUser('sam', NOW)).toBe(0)
    expect(await entriesOf(store, 'pair:sam@1.2.3.4', 'user:sam', 'pair:jo@5.6.7.8')).toEqual({
      'pair:sam@1.2.3.4': { failures: 0, firstFailureMs: 0, lockedUntilMs: 0, lastSuccessMs: NOW },
      'user:sam': NONE,
      'pair:jo@5.6.7.8': { failures: 1, firstFailureMs: NOW, lockedUntilMs: 0 },
    })
  })

  it('purges keys with no lock, no recent failure and no recent success', async () => {
    const { store } = fixture
    await store.throttle.update([{ key: 'address:locked', userId: null }], () => ({
      entries: new Map([
        ['address:locked', { failures: 5, firstFailureMs: NOW - 1, lockedUntilMs: NOW + 1 }],
      ]),
      result: null,
    }))
    // Keys read but never counted go first (PostgreSQL keeps a zeroed row for each key it locked).
    await store.throttle.purge(NOW, 1, 1)
    // pair:jo failed at NOW; pair:sam succeeded at NOW; address:locked is locked until NOW + 1.
    expect(await store.throttle.purge(NOW, NOW, NOW)).toBe(0)
    expect(await store.throttle.purge(NOW, NOW + 1, NOW)).toBe(1)
    expect(await store.throttle.purge(NOW + 1, NOW + 1, NOW + 1)).toBe(2)
    expect(await entriesOf(store, 'pair:jo@5.6.7.8', 'pair:sam@1.2.3.4', 'address:locked')).toEqual({
      'pair:jo@5.6.7.8': NONE,
      'pair:sam@1.2.3.4': NONE,
      'address:locked': NONE,
    })
  })

  it('counts every one of many simultaneous failures on two nodes, whatever order they name the keys in', async () => {
    const other = await fixture.node()
    const keys = [
      { key: 'user:raced', userId: 'raced' },
      { key: 'address:9.9.9.9', userId: null },
    ]
    await race([fixture.store, other], 20, (node, i) => fail(node, i % 4 < 2 ? keys : [...keys].reverse()))
    expect(await entriesOf(other, 'user:raced', 'address:9.9.9.9')).toEqual({
      'user:raced': { failures: 20, firstFailureMs: NOW, lockedUntilMs: 0 },
      'address:9.9.9.9': { failures: 20, firstFailureMs: NOW, lockedUntilMs: 0 },
    })
  })
})
