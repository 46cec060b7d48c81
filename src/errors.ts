/**
 * The errors Custodian raises at its edges. Decisions are values (see decision/decision.ts); these are
 * made from them where a caller asked for an exception. Each code is stable: scripts print it, HTTP maps it
 * to a problem `type` and status.
 */
export const errorCodes = {
  AccessDenied: 403,
  InvalidAccessToken: 401,
  Authentication: 401,
  Throttled: 429,
  NotFound: 404,
  Conflict: 409,
  Syntax: 400,
  Validation: 400,
  Unavailable: 503,
  TooLarge: 413,
} as const

export type ErrorCode = keyof typeof errorCodes

export class CustodianError extends Error {
  readonly code: ErrorCode
  /** Extra machine-readable facts (for example `retryAfterSeconds`), never secrets. */
  readonly details: Record<string, unknown>

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    // A refusal is an answer, not a fault: its stack is never shown, and capturing one cost more than the
    // whole access check it reports (a third of POST /v1/check's handler time under load).
    const limit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    super(message)
    Error.stackTraceLimit = limit
    this.name = `${code}Error`
    this.code = code
    this.details = details
  }

  get status(): number {
    return errorCodes[this.code]
  }
}

export class AccessDeniedError extends CustodianError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('AccessDenied', message, details)
  }
}

export class InvalidAccessTokenError extends CustodianError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('InvalidAccessToken', message, details)
  }
}

export class AuthenticationError extends CustodianError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('Authentication', message, details)
  }
}

/** What a 503 of a node that is catching up, or cannot reach its store, asks a client to wait before trying again. */
export const RETRY_AFTER_SECONDS = 2

export const notFound = (message: string) => new CustodianError('NotFound', message)
export const conflict = (message: string) => new CustodianError('Conflict', message)
export const invalid = (message: string) => new CustodianError('Validation', message)
/** More than a configured limit allows: `message` names the limit and its setting. */
export const tooLarge = (message: string) => new CustodianError('TooLarge', message)

export const isCustodianError = (error: unknown): error is CustodianError => error instanceof CustodianError
