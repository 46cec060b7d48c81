import type { ChangeResult } from '../custodian.js'
import { changeOutcome, checkInput, invoke, isChange, type Operation } from '../kernel/operations.js'
import { type CommandSpec, define, resolveToken, type SessionState } from './command-kit.js'

/**
 * A script command (and so a CLI verb) for every operation of the tables that has a `script` form: the
 * positional arguments become the named input fields, checked against the input schema, so a bad one is
 * reported as `FILE:LINE: command: Validation: <field> ...`.
 */
export function operationCommands(tables: readonly (readonly Operation[])[]): Record<string, CommandSpec> {
  const commands: Record<string, CommandSpec> = {}
  for (const op of tables.flat()) {
    const script = op.script
    if (!script) continue
    const first = script.tokenArg ? 1 : 0
    const max = first + script.args.length
    const min = max - (script.optional ?? 0)
    commands[op.name] = define(script.usage, script.help, min, max, async (s, a) => {
      // An optional argument left out (or empty) leaves its field out, so the schema's default applies.
      const input: Record<string, string> = {}
      script.args.forEach((field, i) => {
        const text = a[first + i] as string
        if (text !== '' || first + i < min) input[field] = text
      })
      const output = await runOperation(op, s, input, script.tokenArg ? resolveToken(s, a[0]) : s.adminToken)
      if (script.present) return script.present(output)
      if (isChange(op)) return changeOutcome(output as ChangeResult)
      return { message: JSON.stringify(output), result: output }
    })
  }
  return commands
}

/** Runs an operation that changes the store, as runOperation does: the outcome is the change's. */
export async function runChange(...call: Parameters<typeof runOperation>) {
  return changeOutcome((await runOperation(...call)) as ChangeResult)
}

/**
 * Runs an operation for a command of the session, with the administrative token unless told another: the
 * input checked against its schema (fields left undefined are left out), then the permission, then the function.
 */
export function runOperation(
  op: Operation,
  state: SessionState,
  input: Record<string, unknown>,
  token = state.adminToken,
): Promise<unknown> {
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined))
  return invoke(
    op,
    { custodian: state.custodian, token, address: state.address, baseUrl: '' },
    checkInput(op, given),
  )
}
