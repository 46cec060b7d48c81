import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openStore, type Store } from '../../src/store/store.js'
import { storeBackends } from '../support/temp-store.js'

const NOW = Date.UTC(2026, 11, 1, 10, 0, 0)

describe.each(storeBackends)('the evidence replay cache on $name', ({ make }) => {
  let remove: () => Promise<void>
  let store: Store
  let other: Store

  beforeAll(async () => {
    let target: string
    ;({ target, remove } = await make())
    store = await openStore(target)
    // A second node on the same database.
    other = await openStore(target)
  })
  afterAll(async () => {
    await other.close()
    await store.close()
    await remove()
  })

  it('claims a jti once, for every node, per issuer', async () => {
    expect(await store.replay.claimJti('EU.EORI.A', 'jti-1', NOW + 30_000, NOW)).toBe(true)
    expect(await store.replay.claimJti('EU.EORI.A', 'jti-1', NOW + 30_000, NOW)).toBe(false)
    expect(await other.replay.claimJti('EU.EORI.A', 'jti-1', NOW + 30_000, NOW + 1_000)).toBe(false)
    expect(await other.replay.claimJti('EU.EORI.B', 'jti-1', NOW + 30_000, NOW)).toBe(true)
  })

  it('lets exactly one of many simultaneous claims through', async () => {
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? other : store).replay.claimJti('EU.EORI.A', 'raced', NOW + 30_000, NOW),
      ),
    )
    expect(claims.filter(Boolean)).toHaveLength(1)
  })

  it('prunes what expired, so its key may be claimed again', async () => {
    expect(await store.replay.claimJti('EU.EORI.A', 'old', NOW + 30_000, NOW)).toBe(true)
    expect(await store.replay.claimJti('EU.EORI.A', 'old', NOW + 60_000, NOW + 30_001)).toBe(true)
    expect(await store.replay.claimJti('EU.EORI.A', 'old', NOW + 60_000, NOW + 30_002)).toBe(false)
  })
})
