import { type Kysely, sql } from 'kysely'
import type { StoreKind } from './dialects.js'
import type { Database } from './schema.js'

/**
 * Where a pruned audit log now starts: the last removed record's sequence number and hash, so that the
 * chain is verified onwards from it (the next record's previous-hash must be this hash), and when.
 */
export interface AuditCheckpoint {
  seq: number
  hash: string
  /** When the last removed record was written. */
  at: string
  /** When it was removed. */
  prunedAt: string
}

const CHECKPOINT_KEY = 'audit_checkpoint'
// One pruning at a time across nodes on PostgreSQL (SQLite's write lock serialises them already).
const PRUNE_LOCK_KEY = 0x4155_4454 // 'AUDT'

export async function auditCheckpoint(db: Kysely<Database>): Promise<AuditCheckpoint | undefined> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', CHECKPOINT_KEY).executeTakeFirst()
  return row ? (JSON.parse(row.value) as AuditCheckpoint) : undefined
}

/**
 * Removes, in one transaction, up to `limit` of the oldest audit records, all written before `before` (ISO
 * time), and records the last of them as the checkpoint. Only a run from the start of the log goes, so what
 * stays is one unbroken chain; the newest record always stays, since the next append chains from it.
 */
export function pruneAudit(
  db: Kysely<Database>,
  kind: StoreKind,
  before: string,
  limit: number,
  now: string,
): Promise<{ pruned: number; checkpoint: AuditCheckpoint | undefined }> {
  return db.transaction().execute(async (trx) => {
    if (kind === 'postgres') await sql`select pg_advisory_xact_lock(${PRUNE_LOCK_KEY})`.execute(trx)
    const from = (await auditCheckpoint(trx))?.seq ?? 0
    const newest = await trx
      .selectFrom('audit_log')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst()
    // Bounded: at most `limit` records are looked at, through the primary key.
    const firstKept = await trx
      .selectFrom('audit_log')
      .select('seq')
      .where('seq', '>', from)
      .where('seq', '<=', from + limit)
      .where('at', '>=', before)
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst()
    const upTo = Math.min(firstKept ? Number(firstKept.seq) - 1 : from + limit, Number(newest?.seq ?? 0) - 1)
    const last =
      upTo > from
        ? await trx
            .selectFrom('audit_log')
            .select(['seq', 'hash', 'at'])
            .where('seq', '<=', upTo)
            .orderBy('seq', 'desc')
            .limit(1)
            .executeTakeFirst()
        : undefined
    if (!last) return { pruned: 0, checkpoint: await auditCheckpoint(trx) }
    const removed = await trx.deleteFrom('audit_log').where('seq', '<=', Number(last.seq)).executeTakeFirst()
    const checkpoint = { seq: Number(last.seq), hash: last.hash, at: last.at, prunedAt: now }
    const value = JSON.stringify(checkpoint)
    await trx
      .insertInto('meta')
      .values({ key: CHECKPOINT_KEY, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute()
    return { pruned: Number(removed.numDeletedRows), checkpoint }
  })
}
