import { Readable } from 'node:stream'
import type { Custodian } from '../../src/custodian.js'
import { type LineReport, runScript } from '../../src/script/run-script.js'

/** Script lines that make `root` (password `root secret`) an administrator and log the script in as root. */
export const ROOT_ADMINISTRATOR = [
  'create_user root, Root',
  'add_user_credential root, password, root secret',
  'add_role_to_user root, admin',
  'login user root, password root secret',
]

/** A line's outcome as a test compares it: 'ok', or `<code>: <message>`. */
export const outcomeOf = (report: LineReport) =>
  report.ok ? 'ok' : `${report.error.code}: ${report.error.message}`

/** Runs lines as one script on `custodian` (in process); each line's outcome. */
export async function runLines(custodian: Custodian, ...lines: string[]): Promise<string[]> {
  const reports: LineReport[] = []
  await runScript(custodian, Readable.from(lines.join('\n')), (r) => reports.push(r))
  return reports.map(outcomeOf)
}
