import { describe, expect, it } from 'vitest'
import { HELD, PARKED } from '../store/outbox.js'
import type { OutboxRow } from '../store/schema.js'
import { outboxState, retryRefusal } from './outbox-operations.js'

const row = (over: Partial<OutboxRow>): OutboxRow => ({
  id: 'm1',
  channel: 'http',
  target: 'https://tp.example/notify',
  subject: 'data published',
  body: '',
  content_type: 'application/xml',
  attempts: 0,
  next_attempt_at: '2026-12-01T10:00:00.000Z',
  leased_until: null,
  delivered_at: null,
  last_error: null,
  created_at: '2026-12-01T10:00:00.000Z',
  topics: null,
  superseded_by: null,
  ...over,
})

describe('an undelivered message, as operators see it', () => {
  it('is pending, failed, parked, held or superseded', () => {
    expect(outboxState(row({}))).toBe('pending')
    expect(outboxState(row({ attempts: 2 }))).toBe('failed')
    expect(outboxState(row({ attempts: 20, next_attempt_at: PARKED }))).toBe('parked')
    expect(outboxState(row({ next_attempt_at: HELD }))).toBe('held')
    expect(outboxState(row({ next_attempt_at: PARKED, superseded_by: 'm2' }))).toBe('superseded')
  })

  it('may be retried unless delivered, absorbed by a newer notice, or held for its import', () => {
    expect(retryRefusal(row({ attempts: 3 }))).toBeUndefined()
    expect(retryRefusal(row({ next_attempt_at: PARKED }))).toBeUndefined()
    expect(retryRefusal(row({ delivered_at: '2026-12-01T11:00:00.000Z' }))).toBe(
      'message m1 was delivered at 2026-12-01T11:00:00.000Z',
    )
    expect(retryRefusal(row({ next_attempt_at: PARKED, superseded_by: 'm2' }))).toBe(
      'message m1 was absorbed by the newer message m2, which carries its news',
    )
    expect(retryRefusal(row({ next_attempt_at: HELD }))).toBe(
      'message m1 waits for its import to be published: its data cannot be fetched yet',
    )
  })
})
