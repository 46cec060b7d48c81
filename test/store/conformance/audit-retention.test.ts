import { sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { verifyStoredAudit } from '../../../src/kernel/audit-retention.js'
import { connect } from '../../../src/store/dialects.js'
import { auditEntry, backends, storeFixture } from './backends.js'

const OLD = '2026-01-01T00:00:00.000Z'
const CUT = '2026-06-01T00:00:00.000Z'
const NEW = '2026-11-01T00:00:00.000Z'
const NOW = '2026-12-01T00:00:00.000Z'

describe.each(backends)('audit retention on $name', ({ make }) => {
  const fixture = storeFixture(make)
  // A second way in, for changing records behind the store's back as an intruder would.
  let raw: ReturnType<typeof connect> | undefined
  const tamper = (query: ReturnType<typeof sql>) => {
    raw ??= connect(fixture.target)
    return query.execute(raw.db)
  }
  afterAll(() => raw?.db.destroy())

  const append = (entries: ReturnType<typeof auditEntry>[]) =>
    fixture.store.write(0, () => ({ changes: [], audit: entries, result: null }))

  it('verifies from genesis when nothing was pruned, and prunes nothing newer than the cut', async () => {
    const { store } = fixture
    await append(Array.from({ length: 7 }, (_, i) => auditEntry(`old${i}`, OLD)))
    await append([auditEntry('new0', NEW), auditEntry('new1', NEW)])
    expect(await store.auditCheckpoint()).toBeUndefined()
    expect(await verifyStoredAudit(store)).toEqual({ count: 9, problems: [], from: undefined })
    expect(await store.pruneAudit(OLD, 100, NOW)).toEqual({ pruned: 0, checkpoint: undefined })
  })

  it('prunes the oldest records in bounded batches, and verifies the rest from the checkpoint', async () => {
    const { store } = fixture
    const [third] = (await store.readAudit(2, 1)).map((r) => ({ seq: r.seq, hash: r.hash, at: r.at }))
    const first = await store.pruneAudit(CUT, 3, NOW)
    expect(first).toEqual({ pruned: 3, checkpoint: { ...third, prunedAt: NOW } })
    const second = await store.pruneAudit(CUT, 3, NOW)
    expect(second.pruned).toBe(3)
    // The seventh old record is the last before the cut; the batch stops there, not at its limit.
    const last = await store.pruneAudit(CUT, 3, NOW)
    expect(last).toMatchObject({ pruned: 1, checkpoint: { seq: 7, at: OLD, prunedAt: NOW } })
    expect((await store.readAudit(0, 10)).map((r) => r.action)).toEqual(['new0', 'new1'])
    expect(await verifyStoredAudit(store)).toEqual({ count: 2, problems: [], from: last.checkpoint })
    expect(await store.pruneAudit(CUT, 3, NOW)).toEqual({ pruned: 0, checkpoint: last.checkpoint })
  })

  it('keeps the newest record, so that the next append chains from it', async () => {
    const { store } = fixture
    const { pruned, checkpoint } = await store.pruneAudit(NOW, 100, NOW)
    expect(pruned).toBe(1)
    expect(checkpoint?.seq).toBe(8)
    await append([auditEntry('after', NEW)])
    expect((await store.readAudit(0, 10)).map((r) => [r.seq, r.action])).toEqual([
      [9, 'new1'],
      [10, 'after'],
    ])
    expect(await verifyStoredAudit(store)).toEqual({ count: 2, problems: [], from: checkpoint })
  })

  it('detects a record changed after pruning', async () => {
    await tamper(sql`update audit_log set reason = 'nothing to see' where seq = 9`)
    expect((await verifyStoredAudit(fixture.store)).problems).toEqual([
      { seq: 9, problem: 'record content does not match its hash: it was changed' },
    ])
    await tamper(sql`update audit_log set reason = 'because' where seq = 9`)
    expect((await verifyStoredAudit(fixture.store)).problems).toEqual([])
  })

  it('detects a checkpoint that does not match the first record kept', async () => {
    const { store } = fixture
    const checkpoint = await store.auditCheckpoint()
    const forged = JSON.stringify({ ...checkpoint, hash: 'f'.repeat(64) })
    await tamper(sql`update meta set value = ${forged} where key = 'audit_checkpoint'`)
    expect((await verifyStoredAudit(store)).problems).toEqual([
      { seq: 9, problem: "previous-hash does not match record 8's hash" },
    ])
    // Moved forward to hide a record: the record it hides is still there, and the one after it does not follow.
    const moved = JSON.stringify({ ...checkpoint, seq: 9 })
    await tamper(sql`update meta set value = ${moved} where key = 'audit_checkpoint'`)
    expect((await verifyStoredAudit(store)).problems).toEqual([
      {
        seq: 9,
        problem: 'the pruning checkpoint (record 9) does not match the log, which still holds record 9',
      },
      { seq: 10, problem: "previous-hash does not match record 9's hash" },
    ])
  })

  it('detects records removed beyond the checkpoint', async () => {
    const { store } = fixture
    await append([auditEntry('later', NEW)])
    const checkpoint = JSON.stringify({
      seq: 8,
      hash: (await store.readAudit(7, 1))[0]?.prev_hash,
      at: OLD,
      prunedAt: NOW,
    })
    await tamper(sql`update meta set value = ${checkpoint} where key = 'audit_checkpoint'`)
    await tamper(sql`delete from audit_log where seq = 9`)
    expect((await verifyStoredAudit(store)).problems).toEqual([
      { seq: 10, problem: 'record(s) 9..9 missing: sequence jumps from 8 to 10' },
    ])
  })
})
