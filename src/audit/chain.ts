import { hash } from 'node:crypto'

/** One record of the audit log, as the store keeps it. */
export interface AuditRow {
  seq: number
  at: string
  /** The user id acting, or `bootstrap`, `system`, `anonymous`. */
  actor: string
  /** Dotted verb, for example `permission.define`, `login.password`, or `check:<permission>`. */
  action: string
  /** What was acted on, as the command named it. */
  resource: string
  /** `ok`, `allowed`, `denied` or an error code. */
  outcome: string
  reason: string
  prev_hash: string
  hash: string
}

/** What a caller records (fields described on AuditRow); the store adds the sequence number and the chain. */
export type AuditEntry = Omit<AuditRow, 'seq' | 'prev_hash' | 'hash'>

/** The hash of the empty chain, so that the first record has a predecessor like every other. */
export const GENESIS_HASH = '0'.repeat(64)

/** The hash of one record: it covers every field and the previous record's hash. */
export function hashAuditRecord(seq: number, entry: AuditEntry, prevHash: string): string {
  const canonical = JSON.stringify([
    seq,
    entry.at,
    entry.actor,
    entry.action,
    entry.resource,
    entry.outcome,
    entry.reason,
    prevHash,
  ])
  return hash('sha256', canonical, 'hex') // one-shot: no Hash object a record
}

const isStorable = (text: string) => text.isWellFormed() && !text.includes('\0')

/**
 * Text as every backend stores it: a NUL (which PostgreSQL's text refuses) or a lone surrogate (which is not
 * UTF-8) becomes U+FFFD. A record's fields hold callers' text (an id asked about, say): one that no store
 * accepts would fail its batch, and every batch after it, since a failed batch is written again.
 */
export function storableText(text: string): string {
  return isStorable(text) ? text : text.toWellFormed().replaceAll('\0', '\uFFFD')
}

/** The entry itself when every field is storable (nearly always): no copy a record. */
const storableEntry = (entry: AuditEntry): AuditEntry =>
  isStorable(entry.actor) &&
  isStorable(entry.action) &&
  isStorable(entry.resource) &&
  isStorable(entry.outcome) &&
  isStorable(entry.reason)
    ? entry
    : {
        at: entry.at,
        actor: storableText(entry.actor),
        action: storableText(entry.action),
        resource: storableText(entry.resource),
        outcome: storableText(entry.outcome),
        reason: storableText(entry.reason),
      }

export function chainAuditEntries(
  entries: readonly AuditEntry[],
  head: { seq: number; hash: string },
): AuditRow[] {
  let { seq, hash } = head
  return entries.map((given) => {
    const entry = storableEntry(given)
    seq += 1
    const prev = hash
    hash = hashAuditRecord(seq, entry, prev)
    return { seq, ...entry, prev_hash: prev, hash }
  })
}

export interface AuditProblem {
  seq: number
  problem: string
}

/**
 * Checks a run of records read in `seq` order: each must follow the previous one without a gap, point at its
 * hash, and hash to what it says. `expectedHead` is the head the store recorded on its last append, which
 * catches records removed from the end.
 */
export function verifyAuditChain(
  rows: Iterable<AuditRow>,
  previous: { seq: number; hash: string },
): { problems: AuditProblem[]; last: { seq: number; hash: string }; count: number } {
  const problems: AuditProblem[] = []
  let last = previous
  let count = 0
  for (const row of rows) {
    count += 1
    if (row.seq !== last.seq + 1) {
      problems.push({
        seq: row.seq,
        problem: `record(s) ${last.seq + 1}..${row.seq - 1} missing: sequence jumps from ${last.seq} to ${row.seq}`,
      })
    } else if (row.prev_hash !== last.hash) {
      problems.push({ seq: row.seq, problem: `previous-hash does not match record ${last.seq}'s hash` })
    }
    const recomputed = hashAuditRecord(row.seq, row, row.prev_hash)
    if (recomputed !== row.hash) {
      problems.push({ seq: row.seq, problem: 'record content does not match its hash: it was changed' })
    }
    last = { seq: row.seq, hash: row.hash }
  }
  return { problems, last, count }
}
