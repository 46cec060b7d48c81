import type { Config } from '../config.js'
import { type Flags, integerFlag, open, UsageError } from './verb-context.js'

/** `custodian audit verify|list`: the audit log's hash chain checked, or its records listed. */
export async function audit(
  config: Config,
  flags: Flags,
  action: string | undefined,
  out: NodeJS.WritableStream,
): Promise<number> {
  const custodian = await open(config, { index: false }) // the audit log only
  try {
    if (action === 'verify') {
      const { count, problems } = await custodian.verifyAudit()
      if (flags.json)
        out.write(`${JSON.stringify({ ok: problems.length === 0, records: count, problems })}\n`)
      else if (problems.length === 0) out.write(`audit log intact: ${count} record(s), hash chain verified\n`)
      else {
        for (const p of problems) out.write(`record ${p.seq}: ${p.problem}\n`)
        out.write(`audit log damaged: ${problems.length} problem(s) in ${count} record(s)\n`)
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
            : `${r.seq} ${r.at} ${r.actor} ${r.action} ${r.resource} ${r.outcome}: ${r.reason}\n`,
        )
      }
      return 0
    }
    throw new UsageError('audit takes verify or list')
  } finally {
    await custodian.close()
  }
}
