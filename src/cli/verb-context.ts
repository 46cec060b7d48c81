import { type Config, settings } from '../config.js'
import { Custodian } from '../custodian.js'
import { createLogger } from '../logger.js'

// What every verb of the `custodian` command is given: its flags, and a Custodian opened for that one verb.

export const cliOptions = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
  token: { type: 'string' },
  user: { type: 'string' },
  'voice-print': { type: 'string' },
  after: { type: 'string' },
  limit: { type: 'string' },
  config: { type: 'string' },
  'usage-point': { type: 'string' },
  role: { type: 'string', multiple: true },
  understands: { type: 'string', multiple: true },
  name: { type: 'string' },
  participant: { type: 'string' },
  issuer: { type: 'string' },
  policy: { type: 'string' },
  mask: { type: 'string' },
  at: { type: 'string' },
  party: { type: 'string' },
  action: { type: 'string' },
  evidence: { type: 'string' },
  service: { type: 'string' },
  map: { type: 'string' },
  key: { type: 'string' },
  chain: { type: 'string' },
  audience: { type: 'string' },
  'client-id': { type: 'string' },
  ...Object.fromEntries(Object.values(settings).map((s) => [s.flag, { type: 'string' }])),
} as const

/** A command line the command cannot run: reported on standard error, exit 2. */
export class UsageError extends Error {}

export type Flags = Record<string, string | string[] | boolean | undefined>

export function integerFlag(flags: Flags, name: string, fallback: number): number {
  const raw = flags[name]
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0)
    throw new UsageError(`--${name} must be a whole number, got "${String(raw)}"`)
  return value
}

export const tokenOf = (flags: Flags) =>
  typeof flags.token === 'string' ? flags.token : process.env.CUSTODIAN_TOKEN

export const many = (value: Flags[string]) =>
  Array.isArray(value) ? value : typeof value === 'string' ? [value] : []

/**
 * A Custodian for one verb: quiet below warnings, and without the hourly tidying a server does. A verb that
 * reads the store only opens it with `{ index: false }`: it then builds no Index, and starts at once
 * whatever the number of users.
 */
export async function open(config: Config, options: { index?: boolean } = {}): Promise<Custodian> {
  return Custodian.open({
    config,
    ...options,
    follow: false,
    logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, undefined, config.logFormat),
  })
}
