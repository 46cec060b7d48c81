import type BetterSqlite3 from 'better-sqlite3'
import { type Kysely, sql, type Transaction } from 'kysely'
import { lossableTransaction, type StoreKind } from './dialects.js'
import type { Database, LoginThrottleRow } from './schema.js'

/** What the store keeps of one throttle key; entitlements/throttle.ts decides what the numbers mean. */
export interface ThrottleEntry {
  failures: number
  firstFailureMs: number
  lockedUntilMs: number
  /** The last success on this key (a user at an address), epoch ms; 0 or absent: none. */
  lastSuccessMs?: number
}

export type ThrottleEntries = ReadonlyMap<string, ThrottleEntry>

/** A throttle key, and the user it is about (null for address and controller keys). */
export interface ThrottleKey {
  key: string
  userId: string | null
}

/**
 * Login throttling counts in the store, so that every node sees them and a restart keeps them. Outside the
 * change log: they are not entitlement state, and nothing replays them.
 */
export interface ThrottleStore {
  /**
   * In one transaction: reads the keys' entries, locking them against every other node's attempt, and
   * writes back the entries `decide` returns (those that changed). `decide` is pure and may run again if
   * PostgreSQL reports a deadlock. `lossable`: the update may be lost in a power failure (lossableTransaction),
   * for one whose loss errs on the safe side.
   */
  update<T>(
    keys: readonly ThrottleKey[],
    decide: (entries: ThrottleEntries) => { entries?: ThrottleEntries; result: T },
    options?: { lossable?: boolean },
  ): Promise<T>
  /** Clears the failures and locks of every key about a user; answers how many keys were locked. */
  unlockUser(userId: string, nowMs: number): Promise<number>
  /** Forgets keys with no lock, no failure since `failedBeforeMs` and no success since `succeededBeforeMs`. */
  purge(nowMs: number, failedBeforeMs: number, succeededBeforeMs: number): Promise<number>
}

const toEntry = (row: LoginThrottleRow): ThrottleEntry => {
  const entry: ThrottleEntry = {
    failures: Number(row.failures),
    firstFailureMs: Number(row.first_failure_ms),
    lockedUntilMs: Number(row.locked_until_ms),
  }
  const lastSuccessMs = Number(row.last_success_ms)
  return lastSuccessMs > 0 ? { ...entry, lastSuccessMs } : entry
}

const same = (a: ThrottleEntry | undefined, b: ThrottleEntry) =>
  a !== undefined &&
  a.failures === b.failures &&
  a.firstFailureMs === b.firstFailureMs &&
  a.lockedUntilMs === b.lockedUntilMs &&
  (a.lastSuccessMs ?? 0) === (b.lastSuccessMs ?? 0)

const DEADLOCK = '40P01'

export function throttleStore(
  db: Kysely<Database>,
  kind: StoreKind,
  sqlite: BetterSqlite3.Database | undefined,
): ThrottleStore {
  const attempt = async <T>(
    trx: Transaction<Database>,
    keys: readonly ThrottleKey[],
    decide: (entries: ThrottleEntries) => { entries?: ThrottleEntries; result: T },
  ): Promise<T> => {
    const names = keys.map((k) => k.key)
    if (kind === 'postgres') {
      // Every key gets a row to lock, inserted (and then locked) in one order on every node: no deadlocks.
      await trx
        .insertInto('login_throttle')
        .values(
          keys.map((k) => ({
            key: k.key,
            user_id: k.userId,
            failures: 0,
            first_failure_ms: 0,
            locked_until_ms: 0,
            last_success_ms: 0,
          })),
        )
        .onConflict((oc) => oc.column('key').doNothing())
        .execute()
    }
    // On SQLite the transaction began IMMEDIATE: it holds the one write lock already.
    let query = trx.selectFrom('login_throttle').selectAll().where('key', 'in', names)
    if (kind === 'postgres') query = query.orderBy(sql`key collate "C"`).forUpdate()
    const rows = await query.execute()
    const before = new Map(rows.map((row) => [row.key, toEntry(row)]))
    const { entries, result } = decide(before)
    for (const k of keys) {
      const entry = entries?.get(k.key)
      if (!entry || same(before.get(k.key), entry)) continue
      const values = {
        failures: entry.failures,
        first_failure_ms: entry.firstFailureMs,
        locked_until_ms: entry.lockedUntilMs,
        last_success_ms: entry.lastSuccessMs ?? 0,
      }
      await trx
        .insertInto('login_throttle')
        .values({ key: k.key, user_id: k.userId, ...values })
        .onConflict((oc) => oc.column('key').doUpdateSet(values))
        .execute()
    }
    return result
  }

  return {
    async update(keys, decide, options) {
      const sorted = [...keys].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      const work = (trx: Transaction<Database>) => attempt(trx, sorted, decide)
      for (let tries = 1; ; tries++) {
        try {
          return await (options?.lossable
            ? lossableTransaction(db, sqlite, work)
            : db.transaction().execute(work))
        } catch (error) {
          if ((error as { code?: string }).code !== DEADLOCK || tries >= 3) throw error
        }
      }
    },
    async unlockUser(userId, nowMs) {
      return db.transaction().execute(async (trx) => {
        const locked = await trx
          .selectFrom('login_throttle')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', '=', userId)
          .where('locked_until_ms', '>', nowMs)
          .executeTakeFirst()
        await trx
          .updateTable('login_throttle')
          .set({ failures: 0, first_failure_ms: 0, locked_until_ms: 0 })
          .where('user_id', '=', userId)
          .execute()
        return Number(locked?.n ?? 0)
      })
    },
    async purge(nowMs, failedBeforeMs, succeededBeforeMs) {
      const result = await db
        .deleteFrom('login_throttle')
        .where('locked_until_ms', '<=', nowMs)
        .where('first_failure_ms', '<', failedBeforeMs)
        .where('last_success_ms', '<', succeededBeforeMs)
        .executeTakeFirst()
      return Number(result.numDeletedRows)
    },
  }
}
