import { type AuditProblem, GENESIS_HASH, verifyAuditChain } from '../audit/chain.js'
import type { AuditCheckpoint } from '../store/audit-retention-store.js'
import type { Store } from '../store/store.js'

/** What `audit verify` found, and where it started: the genesis hash, or the checkpoint of the last pruning. */
export interface AuditVerification {
  count: number
  problems: AuditProblem[]
  /** Undefined: verified from the genesis hash (nothing was ever pruned). */
  from: AuditCheckpoint | undefined
}

const READ_BATCH = 5_000
/** Records removed per transaction: each pruning transaction holds the write lock only briefly. */
export const PRUNE_BATCH = 10_000
const DAY_MS = 86_400_000

/**
 * Checks the audit chain from its start (the genesis hash, or the pruning checkpoint: the first record
 * kept must follow it) to the head recorded with the last append.
 */
export async function verifyStoredAudit(store: Store): Promise<AuditVerification> {
  const from = await store.auditCheckpoint()
  const problems: AuditProblem[] = []
  const [first] = await store.readAudit(0, 1)
  // A record at or before the checkpoint should have gone with it: the checkpoint is not where the log starts.
  if (from && first && first.seq <= from.seq)
    problems.push({
      seq: first.seq,
      problem: `the pruning checkpoint (record ${from.seq}) does not match the log, which still holds record ${first.seq}`,
    })
  let last = from ? { seq: from.seq, hash: from.hash } : { seq: 0, hash: GENESIS_HASH }
  let count = 0
  for (;;) {
    const rows = await store.readAudit(last.seq, READ_BATCH)
    if (rows.length === 0) break
    const result = verifyAuditChain(rows, last)
    problems.push(...result.problems)
    count += result.count
    last = result.last
  }
  const head = await store.auditHead()
  if (head.seq > last.seq)
    problems.push({
      seq: head.seq,
      problem: `records ${last.seq + 1}..${head.seq} were removed from the end`,
    })
  else if (head.seq === last.seq && head.hash !== last.hash)
    problems.push({ seq: head.seq, problem: 'the last record does not match the recorded head' })
  return { count, problems, from }
}

/** The time before which records go, for a retention of `days` (ISO, as records' `at`). */
export const auditCutoff = (now: number, days: number) => new Date(now - days * DAY_MS).toISOString()

/**
 * Removes the audit records written before `before`, in transactions of PRUNE_BATCH records, until none is
 * left to remove; returns how many went and the checkpoint the log now starts from.
 */
export async function pruneAuditLog(
  store: Store,
  before: string,
  now: () => number,
): Promise<{ pruned: number; checkpoint: AuditCheckpoint | undefined }> {
  let pruned = 0
  for (;;) {
    const batch = await store.pruneAudit(before, PRUNE_BATCH, new Date(now()).toISOString())
    pruned += batch.pruned
    if (batch.pruned < PRUNE_BATCH) return { pruned, checkpoint: batch.checkpoint }
  }
}
