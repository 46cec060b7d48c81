import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type BetterSqlite3 from 'better-sqlite3'
import { type Kysely, sql, type Transaction } from 'kysely'
import { lossableTransaction, type Prepare, type StoreKind } from './dialects.js'
import { HELD, type OutboxMessage, releaseHeld, supersedeInto } from './outbox.js'
import { PendingResources, type ResourceInput } from './pending-resources.js'
import {
  postgresReadings,
  type ReadingInput,
  type ReadingsWriter,
  sqliteReadings,
} from './readings-writer.js'
import type { Database, GbImportRow, GbResourceRow } from './schema.js'

/**
 * How a Green Button import publishes without holding the store. A 10-year file takes seconds to read; held
 * in one transaction, it would stop every other writer (on SQLite, every request of the process) for that long.
 * Instead:
 *
 * 1. **Staging.** Its blocks of readings are written to `gb_staged_blocks` in short transactions, invisible to
 *    readers. Resources (a few per usage point) and notices wait in memory. A crash here leaves only staged
 *    rows, which the next process to open the store drops: nothing of the import is published.
 * 2. **Commit.** One short transaction writes the resources, queues the notices (held), and marks the import
 *    `publishing`. From here it will be published in full, whoever finishes it.
 * 3. **Publication.** The staged readings are merged into `gb_readings` in transactions of a few milliseconds
 *    each; new readings stay unserved until their block exists. A last transaction writes the blocks (so the
 *    new data appears at once), releases the notices, and drops the staging rows. If the process dies on the
 *    way, the next process to open the store, or the next import, resumes it from the staged rows.
 *
 * Imports publish one at a time, in the order they committed, so a later file's revision wins.
 */

/**
 * A merge transaction runs at most about this long before it commits. On SQLite it holds the process's one
 * connection, and its statements the event loop, so it is short; on PostgreSQL other work goes on meanwhile.
 */
const SLICE_MS: Record<StoreKind, number> = { sqlite: 10, postgres: 200 }
/** The pause between two slices on SQLite, for another process waiting for the write lock. */
const PAUSE_MS = 3
/** Readings a staging transaction writes at most. */
const STAGE_READINGS = 5_000
/** An import whose heartbeat is older than this is taken for dead even if its owner cannot be checked. */
const HEARTBEAT_DEAD_MS = 10 * 60_000

const OWNER = `${hostname()}:${process.pid}`
/** The meta key prefix by which a serving process announces itself (its owner follows). */
const SERVING = 'serving:'

/** Whether the process that owns an import is gone (on this host: its pid; elsewhere: a silent heartbeat). */
function ownerIsDead(row: Pick<GbImportRow, 'owner' | 'heartbeat'>, now: number): boolean {
  const at = row.owner.lastIndexOf(':')
  const host = row.owner.slice(0, at)
  const pid = Number(row.owner.slice(at + 1))
  if (host === hostname() && Number.isInteger(pid)) {
    if (pid === process.pid) return false
    try {
      process.kill(pid, 0)
    } catch (error) {
      return (error as { code?: string }).code === 'ESRCH'
    }
  }
  return now - row.heartbeat > HEARTBEAT_DEAD_MS
}

/** What an import writes with. `at` is the publication time (epoch ms). */
export interface UsageWriter {
  /**
   * Adds a resource, or revises the one from the same place (usage point, kind, source); `updated` moves
   * only when something changed. `placeholder` adds it only if it is missing (an IntervalBlock read before
   * its MeterReading).
   */
  putResource(
    input: ResourceInput,
    at: number,
    placeholder?: boolean,
  ): Promise<{ id: string; changed: boolean }>
  /** Links a resource to another (a MeterReading to its ReadingType, a UsagePoint to its local time). */
  linkResource(id: string, linkId: string, intervalLength: number | null, at: number): Promise<void>
  /** A resource as the import has it so far (its links included), undefined if there is none. */
  resourceOf(id: string): Promise<GbResourceRow | undefined>
  /** Adds an IntervalBlock's readings, revising those at the same start. */
  putBlock(
    meterReadingId: string,
    block: { start: number; duration: number },
    readings: readonly ReadingInput[],
  ): Promise<void>
  /** Notices to send once the import is published, if it changed anything. */
  notify(messages: readonly OutboxMessage[]): void
}

/** What an import did, besides what its work returned. */
export interface Imported<T> {
  result: T
  /** Readings that were new or revised (the rest were already stored as they are). */
  changedReadings: number
  /** Of those, how many by meter reading (resource id). */
  changedByMeterReading: ReadonlyMap<string, number>
  /** Notices queued. */
  notified: number
}

/** A staged reading: start, duration, value, cost, qualities (comma-separated). */
type StagedReading = [number, number, number, number | null, string]
type Staged = { meterReadingId: string; start: number; duration: number; readings: readonly ReadingInput[] }

const sameReading = (
  a: ReadingInput,
  b: { duration: number; value: number; cost: number | null; qualities: string },
) =>
  a.duration === b.duration &&
  a.value === b.value &&
  (a.cost ?? null) === b.cost &&
  a.qualities.join(',') === b.qualities

export function stagedImports(
  db: Kysely<Database>,
  kind: StoreKind,
  sqliteConnection?: { sqlite: BetterSqlite3.Database; prepare: Prepare },
) {
  const sqlite = sqliteConnection?.sqlite
  const prepare = sqliteConnection?.prepare
  // The imports this process is working on. Any other of its own was left by a failure (the store went away
  // while it published): like a dead process's, it is resumed.
  const active = new Set<string>()
  // The connection's checkpoint setting while no import runs (see importing).
  let autocheckpoint = 1000
  const abandoned = (row: GbImportRow, now: number) =>
    !active.has(row.id) && (row.owner === OWNER || ownerIsDead(row, now))
  const readingsWriter = (trx: Transaction<Database>): ReadingsWriter =>
    prepare ? sqliteReadings(prepare) : postgresReadings(trx)
  const inTransaction = <T>(work: (trx: Transaction<Database>) => Promise<T>) =>
    db.transaction().execute(work)
  // A slice of publication is redone from staging, and staging had not committed: neither needs the disk.
  const redoable = <T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> =>
    lossableTransaction(db, sqlite, work)
  const greatest = kind === 'postgres' ? sql.raw('greatest') : sql.raw('max')

  /** The stored readings of one block's span, to tell which of a file's readings are news. */
  const stored = async (trx: Transaction<Database>, meterReadingId: string, from: number, to: number) => {
    const query =
      'select start, duration, value, cost, qualities from gb_readings where meter_reading_id = ? and start >= ? and start < ?'
    const rows = prepare
      ? (prepare(query).all(meterReadingId, from, to) as {
          start: number
          duration: number
          value: number
          cost: number | null
          qualities: string
        }[])
      : await trx
          .selectFrom('gb_readings')
          .select(['start', 'duration', 'value', 'cost', 'qualities'])
          .where('meter_reading_id', '=', meterReadingId)
          .where('start', '>=', from)
          .where('start', '<', to)
          .execute()
    return new Map(rows.map((r) => [r.start, r]))
  }

  /** Drops an import that never committed, with its staged rows. */
  async function drop(id: string) {
    await inTransaction(async (trx) => {
      await trx.deleteFrom('gb_staged_blocks').where('import_id', '=', id).execute()
      await trx.deleteFrom('gb_imports').where('id', '=', id).execute()
    })
  }

  /** Waits until every import committed before `id` is published, finishing those whose owner died. */
  async function awaitTurn(id: string, committed: number) {
    for (;;) {
      const earlier = await db
        .selectFrom('gb_imports')
        .selectAll()
        .where('state', '=', 'publishing')
        .where((eb) =>
          eb.or([
            eb('committed', '<', committed),
            eb.and([eb('committed', '=', committed), eb('id', '<', id)]),
          ]),
        )
        .orderBy('committed')
        .orderBy('id')
        .execute()
      if (earlier.length === 0) return
      const now = Date.now()
      const dead = earlier.find((row) => abandoned(row, now))
      if (dead) await resume(dead)
      else await sleep(20)
    }
  }

  /** Takes over a dead process's import: drops it if it never committed, publishes it if it did. */
  async function resume(row: GbImportRow) {
    if (active.has(row.id)) return
    active.add(row.id)
    try {
      if (row.state === 'staging') return await drop(row.id)
      const claimed = await db
        .updateTable('gb_imports')
        .set({ owner: OWNER, heartbeat: Date.now() })
        .where('id', '=', row.id)
        .where('owner', '=', row.owner)
        .executeTakeFirst()
      if (Number(claimed.numUpdatedRows) === 1) await publish(row.id, row.committed ?? 0, row.at)
    } finally {
      active.delete(row.id)
    }
  }

  /** Merges a committed import's staged readings in short transactions, then shows its blocks at once. */
  async function publish(id: string, committed: number, at: number) {
    await awaitTurn(id, committed)
    const byMeterReading = new Map<string, number>()
    const politely = kind === 'sqlite' && (await someoneServing())
    for (let more = true; more; ) {
      more = await redoable(async (trx) => {
        const until = Date.now() + SLICE_MS[kind]
        const rows = readingsWriter(trx)
        const blocks = await trx
          .selectFrom('gb_staged_blocks')
          .select(['seq', 'meter_reading_id', 'readings'])
          .where('import_id', '=', id)
          .where('changed', 'is', null)
          .orderBy('seq')
          .limit(kind === 'sqlite' ? 8 : 256)
          .execute()
        let changed = 0
        const done: number[] = []
        const changedSeqs: number[] = []
        for (const block of blocks) {
          const readings = (JSON.parse(block.readings ?? '[]') as StagedReading[]).map(
            ([start, duration, value, cost, qualities]) => ({
              start,
              duration,
              value,
              cost,
              qualities: qualities === '' ? [] : qualities.split(',').map(Number),
            }),
          )
          const n = await rows.putReadings(block.meter_reading_id, readings, at)
          changed += n
          if (n > 0)
            byMeterReading.set(block.meter_reading_id, (byMeterReading.get(block.meter_reading_id) ?? 0) + n)
          done.push(block.seq)
          if (n > 0) changedSeqs.push(block.seq)
          if (Date.now() > until) break
        }
        const first = done[0]
        const last = done[done.length - 1]
        if (first === undefined || last === undefined) return false
        // The blocks merged are consecutive: one statement marks them all, another those whose readings changed.
        await trx
          .updateTable('gb_staged_blocks')
          .set({ readings: null, changed: 0 })
          .where('import_id', '=', id)
          .where('seq', '>=', first)
          .where('seq', '<=', last)
          .execute()
        if (changedSeqs.length > 0)
          await trx
            .updateTable('gb_staged_blocks')
            .set({ changed: 1 })
            .where('import_id', '=', id)
            .where('seq', 'in', changedSeqs)
            .execute()
        await trx
          .updateTable('gb_imports')
          .set((eb) => ({ changed_readings: eb('changed_readings', '+', changed), heartbeat: Date.now() }))
          .where('id', '=', id)
          .execute()
        return true
      })
      // Let the requests that arrived meanwhile run before the next slice. On SQLite, when a server uses the
      // file (this process, or one beside a CLI import), pause: its requests run, and another process takes
      // the write lock, which it tries again every few milliseconds (dialects.ts). Alone, go on at once.
      if (politely) await sleep(PAUSE_MS)
      else await new Promise((resolve) => setImmediate(resolve))
    }
    return inTransaction(async (trx) => {
      const row = await trx
        .selectFrom('gb_imports')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
      // A block may be staged more than once (a CSV's day across two staging transactions): one row each.
      for (const changed of [1, 0]) {
        const select = sql`select meter_reading_id, start, max(duration), cast(${row.at} as bigint),
          cast(${row.at} as bigint) from gb_staged_blocks where import_id = ${id}
          group by meter_reading_id, start having max(changed) = ${changed}`
        const onConflict = changed
          ? sql`do update set duration = ${greatest}(gb_blocks.duration, excluded.duration), updated = excluded.updated`
          : sql`do nothing`
        await sql`insert into gb_blocks (meter_reading_id, start, duration, published, updated) ${select}
          on conflict (meter_reading_id, start) ${onConflict}`.execute(trx)
      }
      await releaseHeld(trx, JSON.parse(row.notices ?? '[]') as string[], new Date().toISOString())
      await trx.deleteFrom('gb_staged_blocks').where('import_id', '=', id).execute()
      await trx.deleteFrom('gb_imports').where('id', '=', id).execute()
      return { changed: Number(row.changed_readings), byMeterReading }
    })
  }

  /** Whether a live process, this one included, serves requests from this store (announced by `serving`). */
  async function someoneServing(): Promise<boolean> {
    const rows = await db.selectFrom('meta').select('key').where('key', 'like', `${SERVING}%`).execute()
    const now = Date.now()
    return rows.some(({ key }) => {
      const owner = key.slice(SERVING.length)
      return !ownerIsDead({ owner, heartbeat: now }, now)
    })
  }

  /** Announces that this process serves requests, until the answer is called. */
  async function serving(): Promise<() => Promise<void>> {
    const key = `${SERVING}${OWNER}`
    const value = new Date().toISOString()
    await db
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute()
    return async () => {
      await db.deleteFrom('meta').where('key', '=', key).execute()
    }
  }

  /** Finishes or drops the imports of processes that died. */
  async function recover(): Promise<void> {
    const now = Date.now()
    const rows = await db.selectFrom('gb_imports').selectAll().orderBy('committed').orderBy('id').execute()
    for (const row of rows) if (abandoned(row, now)) await resume(row)
  }

  /** Runs an import: its work stages, then everything it wrote is published together, or nothing is. */
  async function importing<T>(at: number, work: (writer: UsageWriter) => Promise<T>): Promise<Imported<T>> {
    await recover()
    const id = randomUUID()
    active.add(id)
    // Checkpoints wait until the import is done (a server's run in the background: wal-checkpointer.ts):
    // copying the log into the database every 4 MB of a 100 MB import would stall its commits.
    if (active.size === 1 && sqlite) {
      autocheckpoint = Number(sqlite.pragma('wal_autocheckpoint', { simple: true }))
      sqlite.pragma('wal_autocheckpoint = 0')
    }
    try {
      return await stageAndPublish(id, at, work)
    } finally {
      active.delete(id)
      if (active.size === 0 && sqlite?.open) sqlite.pragma(`wal_autocheckpoint = ${autocheckpoint}`)
    }
  }

  async function stageAndPublish<T>(
    id: string,
    at: number,
    work: (writer: UsageWriter) => Promise<T>,
  ): Promise<Imported<T>> {
    await db
      .insertInto('gb_imports')
      .values({
        id,
        owner: OWNER,
        state: 'staging',
        heartbeat: Date.now(),
        at,
        committed: null,
        resources_changed: 0,
        changed_readings: 0,
        notices: null,
      })
      .execute()
    const resources = new PendingResources(db)
    const notices: OutboxMessage[] = []
    let pending: Staged[] = []
    let pendingReadings = 0
    let seq = 0
    let news = false

    const stage = async () => {
      if (pending.length === 0) return
      const blocks = pending
      pending = []
      pendingReadings = 0
      await redoable(async (trx) => {
        for (const block of blocks) {
          if (news) break
          const last = block.readings[block.readings.length - 1]
          const known = await stored(
            trx,
            block.meterReadingId,
            block.readings[0]?.start ?? 0,
            (last?.start ?? 0) + 1,
          )
          news = block.readings.some((r) => {
            const old = known.get(r.start)
            return !old || !sameReading(r, old)
          })
        }
        // Rows a statement: SQLite takes at most 32,766 parameters.
        for (let i = 0; i < blocks.length; i += 1_000) {
          await trx
            .insertInto('gb_staged_blocks')
            .values(
              blocks.slice(i, i + 1_000).map((block) => ({
                import_id: id,
                seq: seq++,
                meter_reading_id: block.meterReadingId,
                start: block.start,
                duration: block.duration,
                readings: JSON.stringify(
                  block.readings.map(
                    (r): StagedReading => [
                      r.start,
                      r.duration,
                      r.value,
                      r.cost ?? null,
                      r.qualities.join(','),
                    ],
                  ),
                ),
                changed: null,
              })),
            )
            .execute()
        }
        await trx.updateTable('gb_imports').set({ heartbeat: Date.now() }).where('id', '=', id).execute()
      })
    }

    const writer: UsageWriter = {
      putResource: (input, at, placeholder) => resources.put(input, at, placeholder),
      linkResource: (id, linkId, intervalLength, at) => resources.link(id, linkId, intervalLength, at),
      resourceOf: (id) => resources.get(id),

      async putBlock(meterReadingId, block, readings) {
        pending.push({ meterReadingId, ...block, readings })
        pendingReadings += readings.length
        if (pendingReadings >= STAGE_READINGS) await stage()
      },

      notify(messages) {
        notices.push(...messages)
      },
    }

    let result: T
    let committed: number
    let notified = 0
    try {
      result = await work(writer)
      await stage()
      committed = Date.now()
      await inTransaction(async (trx) => {
        await resources.write(trx)
        const held: string[] = []
        if (news || resources.changed) {
          const created = new Date(at).toISOString()
          for (const message of notices) held.push(await supersedeInto(trx, message, created, HELD))
          notified = notices.length
        }
        await trx
          .updateTable('gb_imports')
          .set({ state: 'publishing', committed, notices: JSON.stringify(held), heartbeat: Date.now() })
          .where('id', '=', id)
          .execute()
      })
    } catch (error) {
      await drop(id).catch(() => {}) // if the store is away, the next import or process drops the rows
      throw error
    }
    const published = await publish(id, committed, at)
    return {
      result,
      changedReadings: published.changed,
      changedByMeterReading: published.byMeterReading,
      notified,
    }
  }

  return { importing, recover, serving }
}
