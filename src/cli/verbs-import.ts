import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'
import { Presets, SingleBar } from 'cli-progress'
import type { Config } from '../config.js'
import { importCustomersCsv } from '../consent/customer-csv-import.js'
import { formatOfName, type ImportPhase, importEntitlements } from '../entitlements/entitlement-import.js'
import { formatOf, UsageDataService } from '../greenbutton/usage-data-service.js'
import type { UsagePointMapping } from '../greenbutton/usage-publication.js'
import { type Flags, integerFlag, open, tokenOf, UsageError } from './verb-context.js'

// `custodian import customers|greenbutton|entitlements`: a file in one transaction, with a progress bar on a
// terminal.

/** A progress bar on standard error when it is a terminal; none when the output is kept or piped. */
const progressBar = (format: string) =>
  process.stderr.isTTY ? new SingleBar({ format, hideCursor: true }, Presets.shades_classic) : undefined

/** The nice value an import runs at unless --nice says otherwise: it yields the CPU to a server beside it. */
export const IMPORT_NICE = 10

/** --nice N: 0 (unchanged) to 19 (the lowest priority), by default IMPORT_NICE. */
export function niceOf(flags: Flags): number {
  const nice = integerFlag(flags, 'nice', IMPORT_NICE)
  if (nice > 19) throw new UsageError(`--nice must be from 0 to 19, got "${String(flags.nice)}"`)
  return nice
}

/**
 * An import is batch work: on a machine it shares with a server, the server's requests go first. On Linux the
 * nice value is a thread's, so every thread of this process is lowered (the garbage collector's too; threads
 * started later inherit it); a thread already nicer is left as it is, since raising a priority needs privileges.
 */
function yieldCpu(nice: number) {
  const threads = existsSync('/proc/self/task') ? readdirSync('/proc/self/task').map(Number) : [0]
  for (const thread of threads) {
    try {
      if (nice > getPriority(thread)) setPriority(thread, nice)
    } catch {
      // The thread ended meanwhile.
    }
  }
}

export async function importFile(
  config: Config,
  flags: Flags,
  kind: string | undefined,
  file: string | undefined,
  out: NodeJS.WritableStream,
) {
  if (kind !== 'customers' && kind !== 'greenbutton' && kind !== 'entitlements')
    throw new UsageError('import takes: customers FILE.csv, greenbutton FILE, or entitlements FILE')
  if (!file || !existsSync(file) || !statSync(file).isFile())
    throw new UsageError(`import file ${file ?? '(none given)'} does not exist`)
  yieldCpu(niceOf(flags))
  if (kind === 'greenbutton') return importUsageData(config, flags, file, out)
  if (kind === 'entitlements') return importEntitlementsFile(config, flags, file, out)
  const custodian = await open(config)
  const bar = progressBar('{phase} [{bar}] {percentage}% {value}/{total}')
  let phase = ''
  try {
    const outcome = await importCustomersCsv(custodian, tokenOf(flags), file, (now, done, total) => {
      if (!bar) return
      if (now !== phase) {
        if (phase) bar.stop()
        phase = now
        bar.start(total, 0, { phase: now === 'reading' ? 'reading ' : 'hashing ' })
      }
      bar.update(done)
    })
    bar?.stop()
    if (!outcome.ok) {
      for (const p of outcome.problems)
        out.write(`${file}:${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}\n`)
      process.stderr.write(`nothing imported: ${outcome.problems.length} problem(s)\n`)
      return 1
    }
    out.write(
      flags.json
        ? `${JSON.stringify(outcome.result)}\n`
        : `${outcome.result.summary} (revision ${outcome.result.revision})\n`,
    )
    return 0
  } finally {
    bar?.stop()
    await custodian.close()
  }
}

/** The --map file: a JSON object from the file's usage point ids to Custodian's. */
function mappingOf(flags: Flags): UsagePointMapping {
  const usagePoint = typeof flags['usage-point'] === 'string' ? flags['usage-point'] : undefined
  if (typeof flags.map !== 'string') return usagePoint ? { usagePoint } : {}
  let map: unknown
  try {
    map = JSON.parse(readFileSync(flags.map, 'utf8'))
  } catch (error) {
    throw new UsageError(`--map ${flags.map}: ${(error as Error).message}`)
  }
  const entries = map && typeof map === 'object' && !Array.isArray(map) ? Object.entries(map) : []
  const bad = entries.find(([, v]) => typeof v !== 'string')
  if (entries.length === 0 || bad)
    throw new UsageError(
      `--map ${flags.map}: expected a JSON object of file usage point id → Custodian usage point id${bad ? `; "${bad[0]}" is not a string` : ''}`,
    )
  return { map: Object.fromEntries(entries) as Record<string, string>, ...(usagePoint ? { usagePoint } : {}) }
}

async function importUsageData(config: Config, flags: Flags, file: string, out: NodeJS.WritableStream) {
  const mapping = mappingOf(flags)
  const custodian = await open(config)
  const bar = progressBar('importing [{bar}] {percentage}% {value}/{total} bytes')
  bar?.start(statSync(file).size, 0)
  try {
    const report = await new UsageDataService(custodian).import(tokenOf(flags), {
      name: file,
      format: formatOf(file),
      chunks: createReadStream(file),
      mapping,
      progress: (bytes) => bar?.update(bytes),
    })
    bar?.stop()
    for (const w of report.warnings)
      out.write(`${file}:${w.position.line}:${w.position.column}: warning: ${w.message}\n`)
    if (flags.json) {
      out.write(`${JSON.stringify(report)}\n`)
      return 0
    }
    out.write(
      `${report.readings} readings (${report.changedReadings} new or revised) for ${report.usagePoints.join(', ') || 'no usage point'}; ${report.notified} third-party notification(s) queued\n`,
    )
    for (const [usagePoint, s] of Object.entries(report.stored))
      out.write(
        `  ${usagePoint}: ${s.readings} readings (${s.changedReadings} new or revised) in ${s.intervalBlocks} interval block(s), ${s.meterReadings} meter reading(s), ${s.readingTypes} reading type(s), ${s.summaries} summary(ies)${s.defaults.map((d) => `; given the default ${d}`).join('')}\n`,
      )
    return 0
  } finally {
    bar?.stop()
    await custodian.close()
  }
}

/** Users, credentials, roles, resources and grants from JSON Lines or CSV, all or nothing. */
async function importEntitlementsFile(
  config: Config,
  flags: Flags,
  file: string,
  out: NodeJS.WritableStream,
) {
  const custodian = await open(config)
  const bar = progressBar('{phase} [{bar}] {percentage}% {value}/{total}')
  let phase: ImportPhase | undefined
  try {
    const outcome = await importEntitlements(
      custodian,
      tokenOf(flags),
      { name: file, format: formatOfName(file), chunks: createReadStream(file, { highWaterMark: 1 << 20 }) },
      {
        progress: (now, done, total = statSync(file).size) => {
          if (!bar) return
          if (now !== phase) {
            bar.stop()
            phase = now
            bar.start(total, 0, { phase: now.padEnd(8) })
          }
          bar.update(done)
        },
      },
    )
    bar?.stop()
    if (!outcome.ok) {
      for (const p of outcome.problems)
        out.write(`${file}:${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message}\n`)
      const more = outcome.more > 0 ? ` (${outcome.more} more not shown)` : ''
      process.stderr.write(`nothing imported: ${outcome.problems.length + outcome.more} problem(s)${more}\n`)
      return 1
    }
    out.write(
      flags.json
        ? `${JSON.stringify(outcome.result)}\n`
        : `${outcome.result.summary}: ${outcome.result.rows} rows (revision ${outcome.result.revision})\n`,
    )
    return 0
  } finally {
    bar?.stop()
    await custodian.close()
  }
}
