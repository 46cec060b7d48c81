/** One line of `custodian script --json` output. */
export interface ScriptLine {
  line: number
  ok: boolean
  result?: Record<string, unknown>
  error?: { code: string; message: string }
}

/** The lines of `custodian script FILE --json` output, parsed. */
export const scriptLines = (stdout: string): ScriptLine[] =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ScriptLine)
