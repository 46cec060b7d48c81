import type { ChangeResult, Custodian } from '../custodian.js'
import { CustodianError, notFound } from '../errors.js'
import { changeOutcome } from '../kernel/operations.js'
import type { Field } from './parse-line.js'

/** What every command module shares: the session, the command shape, argument checking, token references. */
/** What a script or CLI session carries from one command to the next. */
export interface SessionState {
  custodian: Custodian
  /** Token of the latest successful `login user`: administrative commands run with it. */
  adminToken?: string
  /** Latest token per user, for `@<user>` references. */
  logins: Map<string, string>
  address: string
}

export interface CommandOutcome {
  /** One line for a person. */
  message: string
  /** The machine-readable result (`--json`). */
  result: unknown
}

export interface CommandSpec {
  usage: string
  help: string
  run(state: SessionState, args: Field[]): Promise<CommandOutcome>
}

const syntax = (message: string) => new CustodianError('Syntax', message)

/** Every command takes at most six arguments; optional ones left out are empty strings. */
export type Args = [string, string, string, string, string, string]

/** The fields' texts, checked against the usage: `min` required, up to `max`. */
function expectArgs(name: string, spec: { usage: string }, args: Field[], min: number, max = min): Args {
  if (args.length < min || args.length > max) {
    throw syntax(
      `${name} takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}: ${spec.usage}`,
    )
  }
  const texts = args.map((a, i) => {
    if (a.text === '' && i < min) {
      throw syntax(`argument ${i + 1} of ${name} is empty (column ${a.column}): ${spec.usage}`)
    }
    return a.text
  })
  return [texts[0] ?? '', texts[1] ?? '', texts[2] ?? '', texts[3] ?? '', texts[4] ?? '', texts[5] ?? '']
}

/** A token reference: `@<user>` for that user's latest login in this session, otherwise the token itself. */
export function resolveToken(state: SessionState, ref: string): string {
  if (!ref.startsWith('@')) return ref
  const token = state.logins.get(ref.slice(1))
  if (!token)
    throw notFound(`no successful login of ${ref.slice(1)} earlier in this script, so ${ref} names no token`)
  return token
}

export const changed: (r: ChangeResult) => CommandOutcome = changeOutcome

type Handler = (state: SessionState, a: Args) => Promise<CommandOutcome>

export function define(usage: string, help: string, min: number, max: number, handler: Handler): CommandSpec {
  const name = usage.split(' ')[0] as string
  const spec: CommandSpec = {
    usage,
    help,
    run: (state, args) => handler(state, expectArgs(name, spec, args, min, max)),
  }
  return spec
}

export const admin = (state: SessionState) => state.adminToken

/** An argument that lists several values, separated by white space. */
export const words = (text: string) => text.split(/\s+/).filter(Boolean)
