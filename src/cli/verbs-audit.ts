import { oneLine } from '../audit/one-line.js'
import type { Config } from '../config.js'
import { type Flags, integerFlag, open, UsageError } from './verb-context.js'

/** `custodian audit verify|list|prune`: the hash chain checked, records listed, or the oldest removed. */
export async function audit(
  config: Config,
  flags: Flags,
  action: string | undefined,
  out: NodeJS.WritableStream,
): Promise<number> {
  const custodian = await open(config, { index: false }) // the audit log only
  try {
    if (action === 'verify') {
      const { count, problems, from } = await custodian.verifyAudit()
      const start = from ? `from checkpoint seq ${from.seq} (pruned at ${from.prunedAt})` : 'from genesis'
      if (flags.json)
        out.write(
          `${JSON.stringify({ ok: problems.length === 0, records: count, from: from ?? 'genesis', problems })}\n`,
        )
      else if (problems.length === 0)
        out.write(`audit log intact: ${count} record(s), hash chain verified ${start}\n`)
      else {
        for (const p of problems) out.write(`record ${p.seq}: ${p.problem}\n`)
        out.write(
          `audit log damaged: ${problems.length} problem(s) in ${count} record(s) verified ${start}\n`,
        )
      }
      return problems.length === 0 ? 0 : 1
    }
    if (action === 'list') {
      const rows = await custodian.store.readAudit(
        integerFlag(flags, 'after', 0),
        integerFlag(flags, 'limit', 100),
      )
      for (const r of rows) {
        out.write(
          flags.json
            ? `${JSON.stringify(r)}\n`
            : // Callers' text, anonymous ones' too: one line a record, and nothing a terminal acts on.
              `${r.seq} ${r.at} ${oneLine(r.actor)} ${oneLine(r.action)} ${oneLine(r.resource)} ${oneLine(r.outcome)}: ${oneLine(r.reason)}\n`,
        )
      }
      return 0
    }
    if (action === 'prune') {
      // The setting, from a flag, the environment or the config file like every other.
      const days = config.auditRetentionDays
      if (days < 1)
        throw new UsageError(
          'audit prune needs the retention in days, at least 1: --audit-retention-days N, CUSTODIAN_AUDIT_RETENTION_DAYS or auditRetentionDays in the config file',
        )
      const { pruned, checkpoint, before } = await custodian.pruneAudit(days)
      if (flags.json) out.write(`${JSON.stringify({ pruned, before, checkpoint: checkpoint ?? null })}\n`)
      else
        out.write(
          `pruned ${pruned} audit record(s) written before ${before}; ` +
            (checkpoint
              ? `the chain is verified from checkpoint seq ${checkpoint.seq} (pruned at ${checkpoint.prunedAt})\n`
              : 'nothing was ever pruned: the chain is verified from genesis\n'),
        )
      return 0
    }
    throw new UsageError('audit takes verify, list or prune')
  } finally {
    await custodian.close()
  }
}
