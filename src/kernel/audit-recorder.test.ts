import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../audit/chain.js'
import { createLogger } from '../logger.js'
import type { PlannedChange, Store, WriteOutcome, WritePlan } from '../store/store.js'
import { AuditRecorder } from './audit-recorder.js'

/**
 * A recorder over a fake store and write path that hold each append or write until the test lets it commit
 * (or fail); `writes` lists both, `viaWritePath` only the writes.
 */
function recorder() {
  const writes: { audit: AuditEntry[]; commit: () => void; fail: (error: Error) => void }[] = []
  const viaWritePath: AuditEntry[][] = []
  const store = {
    appendAudit: (entries: readonly AuditEntry[]) =>
      new Promise<void>((resolve, reject) => {
        writes.push({ audit: [...entries], commit: resolve, fail: reject })
      }),
  } as Partial<Store> as Store
  const due: PlannedChange[] = []
  const audit = new AuditRecorder({
    store,
    log: createLogger('silent'),
    flushMs: 60_000,
    now: () => Date.parse('2026-12-01T00:00:00.000Z'),
    write: <T>(decide: () => WritePlan<T>) =>
      new Promise<WriteOutcome<T>>((resolve, reject) => {
        const plan = decide()
        viaWritePath.push(plan.audit)
        writes.push({
          audit: plan.audit,
          commit: () => resolve({ result: plan.result, changes: [], revision: 0 }),
          fail: reject,
        })
      }),
  })
  audit.writeBackWith(() => due.splice(0))
  const record = (action: string) =>
    audit.record({ actor: 'sam', action, resource: 'r', outcome: 'allowed', reason: 'test' })
  return { audit, writes, viaWritePath, due, record }
}

/** Lets pending callbacks run (the recorder starts a batch after this turn's I/O). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))
const actions = (entries: AuditEntry[]) => entries.map((entry) => entry.action)

describe('the audit recorder (group commit)', () => {
  it('writes the records of flushes asked for in one turn in one write', async () => {
    const { audit, writes, record } = recorder()
    const flushed = ['a', 'b', 'c'].map((action) => {
      record(action)
      return audit.flush()
    })
    await settle()
    expect(writes.map((w) => actions(w.audit))).toEqual([['a', 'b', 'c']])
    writes[0]?.commit()
    await Promise.all(flushed)
    audit.stop()
  })

  it('while one write runs, every flush asked for meanwhile shares the next, and waits for it', async () => {
    const { audit, writes, record } = recorder()
    record('first')
    const first = audit.flush()
    await settle()
    const later = ['x', 'y', 'z'].map((action) => {
      record(action)
      return audit.flush()
    })
    let laterDone = false
    void Promise.all(later).then(() => {
      laterDone = true
    })
    await settle()
    expect(writes).toHaveLength(1)
    writes[0]?.commit()
    await first
    await settle()
    expect(writes.map((w) => actions(w.audit))).toEqual([['first'], ['x', 'y', 'z']])
    expect(laterDone).toBe(false)
    writes[1]?.commit()
    await Promise.all(later)
    audit.stop()
  })

  it('keeps the records of a failed write and writes them with the next', async () => {
    const { audit, writes, record } = recorder()
    record('lost?')
    const failed = audit.flush()
    await settle()
    writes[0]?.fail(new Error('disk full'))
    await expect(failed).rejects.toThrow('disk full')
    record('next')
    const retried = audit.flush()
    await settle()
    expect(actions(writes[1]?.audit ?? [])).toEqual(['lost?', 'next'])
    writes[1]?.commit()
    await retried
    audit.stop()
  })

  it('appends records alone, and writes a due write-back through the write path apart, which no record waits for', async () => {
    const { audit, writes, viaWritePath, due, record } = recorder()
    record('alone')
    const alone = audit.flushAudit()
    await settle()
    writes[0]?.commit()
    await alone
    expect(viaWritePath).toEqual([])

    record('with a write-back due')
    due.push({ tbl: 'access_tokens', op: 'delete', row: { id: 't1' } })
    const recorded = audit.flushAudit()
    const everything = audit.flush()
    let everythingDone = false
    void everything.then(() => {
      everythingDone = true
    })
    await settle()
    // The write-back (no records) through the write path, the records alone: two writes, in flight at once.
    expect(viaWritePath).toEqual([[]])
    expect(writes.slice(1).map((w) => actions(w.audit))).toEqual([[], ['with a write-back due']])
    writes[2]?.commit() // the records commit while the write-back still waits (for the write lock, say)
    await recorded
    await settle()
    expect(everythingDone).toBe(false)
    writes[1]?.commit()
    await everything
    audit.stop()
  })
})
