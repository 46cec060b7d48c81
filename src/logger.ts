import { pino } from 'pino'

export type Logger = pino.Logger

/** Paths that may carry secrets anywhere in a log object; pino replaces their values. */
const redact = [
  'password',
  'token',
  'value',
  'secret',
  'voicePrint',
  '*.password',
  '*.token',
  '*.value',
  '*.secret',
  '*.voicePrint',
  '*.remoteRegisterToken',
  'req.headers.authorization',
  'req.headers.cookie',
]

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: redact, censor: '[redacted]' } }, destination)
}
