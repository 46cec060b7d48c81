import BetterSqlite3 from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { tempSqlite } from '../../test/support/temp-store.js'
import { type AuditEntry, GENESIS_HASH, verifyAuditChain } from '../audit/chain.js'
import { AuditAppendError, AuditAppender, SPOOLED } from './audit-appender.js'
import { spoolFile } from './audit-spool.js'
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

/** The last spooled batch the log at `target` took, as it records it. */
function lastMovedBatch(target: string): number {
  const db = new BetterSqlite3(target, { readonly: true })
  try {
    const row = db.prepare("select value from meta where key = 'audit_spool_moved'").get() as {
      value: string
    }
    return Number(row.value)
  } finally {
    db.close()
  }
}

/** The batches the spool beside the store at `target` holds. */
function spooledBatches(target: string): number {
  const spool = new BetterSqlite3(spoolFile(target), { readonly: true })
  try {
    return (spool.prepare('select count(*) as n from spooled_audit').get() as { n: number }).n
  } finally {
    spool.close()
  }
}

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

  /** An appender waiting `lockWaitMs` for the write lock, and a connection to hold it, closed after `use`. */
  async function withLockHolder(
    lockWaitMs: number,
    use: (appender: AuditAppender, holder: BetterSqlite3.Database) => Promise<void>,
  ): Promise<void> {
    const appender = new AuditAppender(temp.target, lockWaitMs)
    const holder = new BetterSqlite3(temp.target)
    try {
      await use(appender, holder)
    } finally {
      if (holder.inTransaction) holder.exec('rollback')
      holder.close()
      await appender.stop()
    }
  }

  it('waits for a write lock held elsewhere without holding up the event loop', async () => {
    await withLockHolder(15_000, async (appender, holder) => {
      const before = await store.auditHead()
      holder.exec('begin immediate')
      let done = false
      const appended = appender.append([entry('after the lock')]).finally(() => {
        done = true
      })
      // Timers keep firing while the worker waits (with the wait on this thread they would not): the
      // serving connection's thread is free. Ten turns of 5 ms, far inside the worker's wait of 15 s here.
      for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setTimeout(resolve, 5))
      expect(done).toBe(false)
      holder.exec('commit')
      expect(await appended).toEqual(await store.auditHead())
      const rows = await store.readAudit(before.seq, 10)
      expect(rows.map((r) => r.action)).toEqual(['after the lock'])
      expect(verifyAuditChain(rows, before).problems).toEqual([])
    })
  })

  it('spools batches while the write lock stays held past its wait, and chains them first once it is free', async () => {
    await withLockHolder(50, async (appender, holder) => {
      const before = await store.auditHead()
      holder.exec('begin immediate')
      expect(await appender.append([entry('spooled 1')])).toBe(SPOOLED)
      expect(await appender.append([entry('spooled 2'), entry('spooled 3')])).toBe(SPOOLED)
      expect(await store.readAudit(before.seq, 10)).toEqual([])
      expect(spooledBatches(temp.target)).toBe(2) // committed, before their callers heard anything
      holder.exec('commit')
      const head = await appender.append([entry('after the lock')])
      const rows = await store.readAudit(before.seq, 10)
      expect(rows.map((r) => r.action)).toEqual(['spooled 1', 'spooled 2', 'spooled 3', 'after the lock'])
      expect(head).toEqual(await store.auditHead())
      expect(verifyAuditChain(rows, before).problems).toEqual([])
      expect(spooledBatches(temp.target)).toBe(0)
    })
  })

  it('moves spooled records into the log by itself once the lock is free, with no append to carry them', async () => {
    await withLockHolder(50, async (appender, holder) => {
      const before = await store.auditHead()
      holder.exec('begin immediate')
      expect(await appender.append([entry('waiting in the spool')])).toBe(SPOOLED)
      holder.exec('commit')
      await vi.waitFor(
        async () =>
          expect((await store.readAudit(before.seq, 10)).map((r) => r.action)).toEqual([
            'waiting in the spool',
          ]),
        { timeout: 10_000, interval: 50 },
      )
    })
  })

  it('takes a spooled batch once, though the spool still holds it after the move (a crash between the commits)', async () => {
    const appender = new AuditAppender(temp.target, 50)
    const spool = new BetterSqlite3(spoolFile(temp.target))
    try {
      const before = await store.auditHead()
      const moved = lastMovedBatch(temp.target) // the tests above moved batches
      expect(moved).toBeGreaterThan(0)
      spool
        .prepare('insert into spooled_audit (id, entries) values (?, ?)')
        .run(moved, JSON.stringify([entry('moved already')]))
      await appender.append([entry('next')])
      expect((await store.readAudit(before.seq, 10)).map((r) => r.action)).toEqual(['next'])
    } finally {
      spool.close()
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
