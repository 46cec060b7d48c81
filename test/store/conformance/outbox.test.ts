import { describe, expect, it } from 'vitest'
import { backends, PARKED, race, type Store, storeFixture } from './backends.js'

const message = (subject: string) => ({
  channel: 'email' as const,
  target: 'sam@example.org',
  subject,
  body: `about ${subject}`,
  contentType: 'text/plain',
})

const iso = (ms: number) => new Date(ms).toISOString()

/** Commits `subjects` as the messages of one write. */
const queue = async (store: Store, ...subjects: string[]) => {
  await store.write((await store.loadSnapshot()).revision, () => ({
    changes: [],
    audit: [],
    outbox: subjects.map(message),
    result: null,
  }))
}

describe.each(backends)('the outbox on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('holds the messages a write committed, undelivered, oldest first', async () => {
    const { store } = fixture
    const before = Date.now()
    await queue(store, 'one', 'two')
    const pending = await store.pendingOutbox(10)
    expect(pending.map((m) => m.subject).sort()).toEqual(['one', 'two'])
    for (const m of pending) {
      expect(m).toMatchObject({
        channel: 'email',
        target: 'sam@example.org',
        body: `about ${m.subject}`,
        content_type: 'text/plain',
        attempts: 0,
        leased_until: null,
        delivered_at: null,
        last_error: null,
      })
      expect(m.next_attempt_at).toBe(m.created_at)
      expect(Date.parse(m.created_at)).toBeGreaterThanOrEqual(before - 1)
    }
    expect(await store.pendingOutbox(1)).toHaveLength(1)
  })

  it('leases due messages, and skips them while the lease lasts', async () => {
    const { store } = fixture
    const now = Date.now() + 1_000
    const claimed = await store.claimOutbox(iso(now), iso(now + 30_000), 10)
    expect(claimed.map((m) => m.subject).sort()).toEqual(['one', 'two'])
    expect(claimed.map((m) => m.attempts)).toEqual([0, 0])
    expect(await store.claimOutbox(iso(now + 1_000), iso(now + 31_000), 10)).toEqual([])
    expect((await store.pendingOutbox(10)).map((m) => m.leased_until)).toEqual([
      iso(now + 30_000),
      iso(now + 30_000),
    ])
    // A lease that ran out (its node died mid-delivery): the message is due again.
    const again = await store.claimOutbox(iso(now + 30_001), iso(now + 60_000), 1)
    expect(again).toHaveLength(1)
  })

  it('settles a delivery, and a failure with its next attempt', async () => {
    const { store } = fixture
    const now = Date.now() + 120_000
    const [first, second] = await store.claimOutbox(iso(now), iso(now + 30_000), 10)
    if (!first || !second) throw new Error('two messages were due')
    await store.settleOutbox(first.id, { deliveredAt: iso(now) })
    await store.settleOutbox(second.id, { error: 'connection refused', nextAttemptAt: iso(now + 60_000) })
    const pending = await store.pendingOutbox(10)
    expect(pending).toEqual([
      {
        ...second,
        attempts: 1,
        leased_until: null,
        last_error: 'connection refused',
        next_attempt_at: iso(now + 60_000),
      },
    ])
    expect(await store.claimOutbox(iso(now + 59_999), iso(now + 90_000), 10)).toEqual([])
    expect((await store.claimOutbox(iso(now + 60_000), iso(now + 90_000), 10)).map((m) => m.id)).toEqual([
      second.id,
    ])
  })

  it('parks a message with no next attempt: kept for an operator, never claimed again', async () => {
    const { store } = fixture
    const [left] = await store.pendingOutbox(10)
    if (!left) throw new Error('a message is pending')
    await store.settleOutbox(left.id, { error: 'x'.repeat(2000), nextAttemptAt: null })
    const [parked] = await store.pendingOutbox(10)
    expect(parked).toMatchObject({ id: left.id, attempts: 2, next_attempt_at: PARKED, leased_until: null })
    expect(parked?.last_error).toBe('x'.repeat(1000))
    expect(await store.claimOutbox('9000-01-01T00:00:00.000Z', '9000-01-01T00:01:00.000Z', 10)).toEqual([])
  })

  it('leases each message to exactly one of many nodes claiming at once', async () => {
    const { store } = fixture
    const other = await fixture.node()
    await queue(store, ...Array.from({ length: 12 }, (_, i) => `raced ${i}`))
    const now = Date.now() + 1_000
    const claims = await race([store, other], 8, (node) => node.claimOutbox(iso(now), iso(now + 30_000), 3))
    const subjects = claims.flat().map((m) => m.subject)
    expect(subjects.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `raced ${i}`).sort())
  })
})
