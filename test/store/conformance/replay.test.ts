import { describe, expect, it } from 'vitest'
import { backends, race, storeFixture } from './backends.js'

const NOW = Date.UTC(2026, 11, 1, 10, 0, 0)

describe.each(backends)('the evidence replay cache on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('claims a jti once, for every node, per issuer', async () => {
    const { store } = fixture
    // A second node on the same database.
    const other = await fixture.node()
    expect(await store.replay.claimJti('EU.EORI.A', 'jti-1', NOW + 30_000, NOW)).toBe(true)
    expect(await store.replay.claimJti('EU.EORI.A', 'jti-1', NOW + 30_000, NOW)).toBe(false)
    expect(await other.replay.claimJti('EU.EORI.A', 'jti-1', NOW + 30_000, NOW + 1_000)).toBe(false)
    expect(await other.replay.claimJti('EU.EORI.B', 'jti-1', NOW + 30_000, NOW)).toBe(true)
  })

  it('lets exactly one of many simultaneous claims through', async () => {
    const other = await fixture.node()
    const claims = await race([other, fixture.store], 8, (node) =>
      node.replay.claimJti('EU.EORI.A', 'raced', NOW + 30_000, NOW),
    )
    expect(claims.filter(Boolean)).toHaveLength(1)
  })

  it('prunes what expired, so its key may be claimed again', async () => {
    const { store } = fixture
    expect(await store.replay.claimJti('EU.EORI.A', 'old', NOW + 30_000, NOW)).toBe(true)
    expect(await store.replay.claimJti('EU.EORI.A', 'old', NOW + 60_000, NOW + 30_001)).toBe(true)
    expect(await store.replay.claimJti('EU.EORI.A', 'old', NOW + 60_000, NOW + 30_002)).toBe(false)
  })

  it('keeps a jti until the moment it expires', async () => {
    const { store } = fixture
    expect(await store.replay.claimJti('EU.EORI.C', 'edge', NOW + 30_000, NOW)).toBe(true)
    expect(await store.replay.claimJti('EU.EORI.C', 'edge', NOW + 60_000, NOW + 30_000)).toBe(false)
  })
})
