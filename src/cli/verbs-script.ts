import { existsSync, statSync } from 'node:fs'
import type { Config } from '../config.js'
import { type EntityKind, entityViews, listEntities } from '../entitlements/views.js'
import { runCommand } from '../script/commands.js'
import type { Field } from '../script/parse-line.js'
import { formatReport, jsonReport, runScriptFile } from '../script/run-script.js'
import { type Flags, open, tokenOf, UsageError } from './verb-context.js'

// The verbs of the script commands: a script file, any one command from the command line, and `show`.

export async function script(
  config: Config,
  flags: Flags,
  file: string | undefined,
  out: NodeJS.WritableStream,
): Promise<number> {
  if (!file) throw new UsageError('script needs a FILE (or - for standard input)')
  if (file !== '-' && (!existsSync(file) || !statSync(file).isFile()))
    throw new UsageError(`script file ${file} does not exist`)
  const custodian = await open(config)
  try {
    const summary = await runScriptFile(
      custodian,
      file,
      (entry) => out.write(`${flags.json ? jsonReport(entry) : formatReport(file, entry)}\n`),
      { token: tokenOf(flags) },
    )
    if (!flags.json) {
      process.stderr.write(
        `${summary.commands} command(s), ${summary.failed} failed; store at revision ${custodian.revision}\n`,
      )
    }
    return summary.failed > 0 ? 1 : 0
  } finally {
    await custodian.close()
  }
}

/** Any one script command, each argument one field; `--token` (or CUSTODIAN_TOKEN) for the administrative. */
export async function command(
  config: Config,
  flags: Flags,
  name: string,
  args: string[],
  out: NodeJS.WritableStream,
) {
  const custodian = await open(config)
  try {
    // Each argument is one word, as a quoted value is in a script.
    const fields: Field[] = args.map((text, i) => ({ text, words: [text], column: i + 1 }))
    const token = tokenOf(flags)
    const state = {
      custodian,
      logins: new Map<string, string>(),
      address: 'cli',
      ...(token ? { adminToken: token } : {}),
    }
    const outcome = await runCommand(state, name, fields)
    out.write(
      flags.json
        ? `${JSON.stringify({ command: name, ok: true, result: outcome.result })}\n`
        : `${outcome.message}\n`,
    )
    return 0
  } finally {
    await custodian.close()
  }
}

export async function show(
  config: Config,
  flags: Flags,
  kind: string | undefined,
  id: string | undefined,
  out: NodeJS.WritableStream,
) {
  if (!kind || !Object.hasOwn(entityViews, kind))
    throw new UsageError(`show takes one of: ${Object.keys(entityViews).join(', ')}`)
  const custodian = await open(config)
  try {
    custodian.authorizeAdminAction(tokenOf(flags), `${id ? 'read' : 'list'} ${kind}`)
    const items = id
      ? [entityViews[kind as EntityKind].one(custodian.index, id)]
      : listEntities(custodian.index, kind as EntityKind)
    for (const item of items)
      out.write(flags.json ? `${JSON.stringify(item)}\n` : `${describe(item as Record<string, unknown>)}\n`)
    return 0
  } finally {
    await custodian.close()
  }
}

const describe = (item: Record<string, unknown>) =>
  Object.entries(item)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)
    .join(' ')
