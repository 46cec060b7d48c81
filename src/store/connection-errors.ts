// A store that could not be reached, said plainly: where it was looked for (never the password), and why.

/** host:port and database of a postgres:// location; a SQLite file as it is. */
export function storeLocation(location: string): string {
  if (!/^postgres(ql)?:\/\//.test(location)) return `the SQLite file ${location}`
  const url = new URL(location)
  return `PostgreSQL at ${url.hostname}:${url.port || '5432'} (database ${url.pathname.slice(1) || 'of the user'})`
}

/** Why the connection failed, in words: the driver's codes said plainly. */
export function whyUnreached(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string }
  const plain: Record<string, string> = {
    ECONNREFUSED: 'nothing listens there (connection refused)',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'the host name could not be looked up',
    ETIMEDOUT: 'the connection timed out',
    '28P01': 'the password was refused',
    '28000': 'this user may not connect',
    '3D000': 'no such database',
  }
  return (code && plain[code]) ?? message ?? String(error)
}
