/** PostgreSQL's SQLSTATE classes for a connection lost or refused, and an operator shutting the server down. */
const UNAVAILABLE_STATES = /^(08|57P0)/
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
])
/** What node-postgres says when its connection went away, or none could be had in time. */
const PG_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client was closed|Client has encountered a connection error/i

/**
 * Whether `error` says the store cannot be reached now (a database restart, a network break, SQLite's write
 * lock held past its wait), rather than that the request or the code is wrong: the request may be tried again.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  // Told on in another's terms (oauth/adapter.ts's temporarily_unavailable), it is still the store's.
  if (error.cause !== undefined && isStoreUnavailable(error.cause)) return true
  const code = (error as { code?: unknown }).code
  if (
    typeof code === 'string' &&
    (UNAVAILABLE_STATES.test(code) || NETWORK_CODES.has(code) || code === 'SQLITE_BUSY')
  )
    return true
  return PG_MESSAGES.test(error.message)
}
