import BetterSqlite3 from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempSqlite } from '../../test/support/temp-store.js'
import { type AuditEntry, GENESIS_HASH, verifyAuditChain } from '../audit/chain.js'
import { AuditAppendError, AuditAppender } from './audit-appender.js'
import { openStore, type Store } from './store.js'

const entry = (action: string): AuditEntry => ({
  at: '2026-12-03T08:00:00.000Z',
  actor: 'tester',
  action,
  resource: 'r',
  outcome: 'ok',
  reason: 'because',
})

describe('a serving SQLite node', () => {
  const temp = tempSqlite()
  const target = temp.target
  let store: Store
  beforeAll(async () => {
    store = await openStore(target)
    await store.serving(() => {})
  })
  afterAll(async () => {
    await store.close()
    temp.remove()
  })

  it("rejects with SQLite's code when it refuses a batch, writes none of it, and appends the next", async () => {
    const before = await store.auditHead()
    refuseAudit(target, 'refused')
    try {
      const refusal = await store.appendAudit([entry('kept out'), entry('refused')]).catch((e: unknown) => e)
      expect(refusal).toBeInstanceOf(AuditAppendError)
      expect(refusal).toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'refused by a trigger' })
      expect(await store.readAudit(before.seq, 10)).toEqual([])
    } finally {
      refuseAudit(target, undefined)
    }
    await store.appendAudit([entry('next')])
    const rows = await store.readAudit(before.seq, 10)
    expect(rows.map((r) => r.action)).toEqual(['next'])
    expect(verifyAuditChain(rows, before).problems).toEqual([])
  })
})

/** A trigger that refuses audit records of `action` (none: dropped). */
function refuseAudit(target: string, action: string | undefined): void {
  const db = new BetterSqlite3(target)
  db.exec(
    action
      ? `create trigger refuse_audit before insert on audit_log when new.action = '${action}' begin select raise(abort, 'refused by a trigger'); end`
      : 'drop trigger if exists refuse_audit',
  )
  db.close()
}

describe('the audit appender alone', () => {
  const temp = tempSqlite()
  let store: Store
  beforeAll(async () => {
    store = await openStore(temp.target)
  })
  afterAll(async () => {
    await store.close()
    temp.remove()
  })

  it('waits for a write lock held elsewhere without holding up the event loop', async () => {
    const appender = new AuditAppender(temp.target)
    const holder = new BetterSqlite3(temp.target)
    try {
      const before = await store.auditHead()
      holder.exec('begin immediate')
      let done = false
      const appended = appender.append([entry('after the lock')]).finally(() => {
        done = true
      })
      // Timers keep firing while the worker waits (with the wait on this thread they would not): the
      // serving connection's thread is free. Ten turns of 5 ms, far inside the worker's wait of 15 s.
      for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(done).toBe(false)
      holder.exec('commit')
      expect(await appended).toEqual(await store.auditHead())
      const rows = await store.readAudit(before.seq, 10)
      expect(rows.map((r) => r.action)).toEqual(['after the lock'])
      expect(verifyAuditChain(rows, before).problems).toEqual([])
    } finally {
      if (holder.inTransaction) holder.exec('rollback')
      holder.close()
      await appender.stop()
    }
  })

  it('answers nothing (the caller appends) when the write lock stays held past its wait, having written nothing', async () => {
    const appender = new AuditAppender(temp.target, 50)
    const holder = new BetterSqlite3(temp.target)
    try {
      const before = await store.auditHead()
      holder.exec('begin immediate')
      expect(await appender.append([entry('handed back')])).toBeUndefined()
      holder.exec('commit')
      expect(await store.readAudit(before.seq, 10)).toEqual([])
    } finally {
      if (holder.inTransaction) holder.exec('rollback')
      holder.close()
      await appender.stop()
    }
  })

  it('answers nothing once its worker is gone, so that the caller appends the batch itself', async () => {
    const appender = new AuditAppender(temp.target)
    await appender.stop()
    expect(await appender.append([entry('nowhere')])).toBeUndefined()
  })

  it('starts the chain from the genesis hash on an empty log', async () => {
    const fresh = tempSqlite()
    const empty = await openStore(fresh.target)
    const appender = new AuditAppender(fresh.target)
    try {
      expect(await appender.append([entry('first')])).toMatchObject({ seq: 1 })
      const rows = await empty.readAudit(0, 10)
      expect(rows[0]).toMatchObject({ seq: 1, action: 'first', prev_hash: GENESIS_HASH })
      expect(await empty.auditHead()).toEqual({ seq: 1, hash: rows[0]?.hash })
    } finally {
      await appender.stop()
      await empty.close()
      fresh.remove()
    }
  })
})
