import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import type { Custodian } from '../custodian.js'
import { isCustodianError } from '../errors.js'
import { runCommand, type SessionState } from './commands.js'
import { parseLine } from './parse-line.js'

export type LineReport =
  | { line: number; command: string; ok: true; result: unknown; message: string }
  | { line: number; command: string; ok: false; error: { code: string; message: string } }

export interface ScriptSummary {
  commands: number
  failed: number
}

/** Where a script runs from, and the token its administrative commands use until a `login user`. */
export interface ScriptOptions {
  address?: string
  token?: string | undefined
}

/**
 * Runs a command script line by line (streamed, so a long script is never held whole). Each command is
 * reported as it finishes; a bad line is reported with its number and the script goes on.
 */
export async function runScript(
  custodian: Custodian,
  input: Readable,
  report: (entry: LineReport) => void,
  options: ScriptOptions = {},
): Promise<ScriptSummary> {
  const state: SessionState = {
    custodian,
    logins: new Map(),
    address: options.address ?? 'script',
    ...(options.token ? { adminToken: options.token } : {}),
  }
  const summary: ScriptSummary = { commands: 0, failed: 0 }
  let line = 0
  for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    line += 1
    const parsed = parseLine(text)
    if (parsed.kind === 'blank') continue
    summary.commands += 1
    if (parsed.kind === 'error') {
      summary.failed += 1
      report({
        line,
        command: '',
        ok: false,
        error: { code: 'Syntax', message: `column ${parsed.column}: ${parsed.message}` },
      })
      continue
    }
    try {
      const outcome = await runCommand(state, parsed.command, parsed.fields)
      report({ line, command: parsed.command, ok: true, result: outcome.result, message: outcome.message })
    } catch (error) {
      summary.failed += 1
      if (!isCustodianError(error)) throw error
      report({
        line,
        command: parsed.command,
        ok: false,
        error: { code: error.code, message: error.message },
      })
    }
  }
  await custodian.flush()
  return summary
}

export const runScriptFile = (
  custodian: Custodian,
  path: string,
  report: (entry: LineReport) => void,
  options?: ScriptOptions,
) => runScript(custodian, path === '-' ? process.stdin : createReadStream(path, 'utf8'), report, options)

/** One report as the text a person reads, prefixed with `file:line`. */
export function formatReport(file: string, entry: LineReport): string {
  const where = `${file}:${entry.line}`
  if (entry.ok) return `${where}: ${entry.command}: ${entry.message}`
  return `${where}: ${entry.command || 'error'}: ${entry.error.code}: ${entry.error.message}`
}

/** One report as the `--json` line: exactly the fields the format promises. */
export function jsonReport(entry: LineReport): string {
  return JSON.stringify(
    entry.ok
      ? { line: entry.line, command: entry.command, ok: true, result: entry.result }
      : { line: entry.line, command: entry.command, ok: false, error: entry.error },
  )
}
