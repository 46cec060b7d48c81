import { describe, expect, it } from 'vitest'
import { backends, PARKED, storeFixture } from './backends.js'

const iso = (ms: number) => new Date(ms).toISOString()

/** "Retry now" for operators: a failed or parked message made due at once; a delivered one left alone. */
describe.each(backends)('retrying an outbox message on $name', ({ make }) => {
  const fixture = storeFixture(make)

  it('makes a parked message due now, keeps its attempts, and leaves a delivered one alone', async () => {
    const { store } = fixture
    await store.write((await store.loadSnapshot()).revision, () => ({
      changes: [],
      audit: [],
      outbox: ['parked', 'delivered'].map((subject) => ({
        channel: 'http' as const,
        target: 'https://tp.example/notify',
        subject,
        body: '<BatchList/>',
        contentType: 'application/xml',
      })),
      result: null,
    }))
    const now = Date.now() + 1_000
    const claimed = await store.claimOutbox(iso(now), iso(now + 30_000), 10)
    const parked = claimed.find((m) => m.subject === 'parked')
    const delivered = claimed.find((m) => m.subject === 'delivered')
    if (!parked || !delivered) throw new Error('both messages were due')
    await store.settleOutbox(parked.id, { error: 'answered HTTP 503', nextAttemptAt: null })
    await store.settleOutbox(delivered.id, { deliveredAt: iso(now) })
    expect(await store.outboxMessage(parked.id)).toMatchObject({ next_attempt_at: PARKED, attempts: 1 })

    expect(await store.retryOutbox(parked.id, iso(now + 5_000))).toBe(true)
    expect(await store.outboxMessage(parked.id)).toMatchObject({
      next_attempt_at: iso(now + 5_000),
      attempts: 1,
      last_error: 'answered HTTP 503',
    })
    expect((await store.claimOutbox(iso(now + 5_000), iso(now + 35_000), 10)).map((m) => m.id)).toEqual([
      parked.id,
    ])
    expect(await store.outboxAttempts(parked.id)).toEqual([
      { message_id: parked.id, attempt: 1, at: expect.any(String), error: 'answered HTTP 503' },
    ])

    expect(await store.retryOutbox(delivered.id, iso(now + 5_000))).toBe(false)
    expect(await store.outboxMessage(delivered.id)).toMatchObject({ delivered_at: iso(now) })
    expect(await store.retryOutbox('no-such-message', iso(now))).toBe(false)
    expect(await store.outboxMessage('no-such-message')).toBeUndefined()
  })
})
