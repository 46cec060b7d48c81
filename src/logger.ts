import { pino } from 'pino'
import { PinoPretty } from 'pino-pretty'
import { CustodianError } from './errors.js'

export type Logger = pino.Logger

/** Paths that may carry secrets anywhere in a log object; pino replaces their values. */
const redact = [
  'password',
  'token',
  'value',
  'secret',
  'voicePrint',
  'metricsToken',
  '*.password',
  '*.token',
  '*.value',
  '*.secret',
  '*.voicePrint',
  '*.remoteRegisterToken',
  '*.metricsToken',
  'req.headers.authorization',
  'req.headers.cookie',
]

/** How log lines are written: the setting logFormat. */
export type LogFormat = 'auto' | 'pretty' | 'json'

/** Whether `format` means readable lines on standard output; refuses a format that is none of the three. */
export function prettyLogs(format: string, isTTY = process.stdout.isTTY === true): boolean {
  if (format === 'pretty') return true
  if (format === 'json') return false
  if (format === 'auto') return isTTY
  throw new CustodianError('Validation', `logFormat must be auto, pretty or json, got "${format}"`)
}

/**
 * The process's logger. `format` (logFormat): JSON lines for a log collector, or on a terminal one readable
 * line a message (pino-pretty, written synchronously in this process, so no line is lost on exit).
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  format: string = 'json',
): Logger {
  const options = { level, redact: { paths: redact, censor: '[redacted]' } }
  if (destination === undefined && prettyLogs(format))
    return pino(options, PinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }))
  return pino(options, destination)
}
