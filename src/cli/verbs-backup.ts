import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import type { Config } from '../config.js'
import { UsageError } from './verb-context.js'

/**
 * `custodian backup FILE`: a consistent copy of the SQLite store, taken with SQLite's online backup while
 * servers keep using it (they may write meanwhile; the copy is of one moment). PostgreSQL has pg_dump.
 */
export async function backup(config: Config, file: string | undefined, out: NodeJS.WritableStream) {
  if (!file) throw new UsageError('backup needs a FILE to write the copy to')
  if (/^postgres(ql)?:\/\//.test(config.db))
    throw new UsageError('backup copies a SQLite store; for PostgreSQL use pg_dump (docs/operations.md)')
  if (!existsSync(config.db)) throw new UsageError(`store ${config.db} does not exist`)
  if (existsSync(file)) throw new UsageError(`${file} exists; backup does not overwrite`)
  const db = new Database(config.db, { readonly: true, fileMustExist: true })
  try {
    const { totalPages } = await db.backup(file)
    out.write(`backed up ${config.db} to ${file} (${totalPages} pages)\n`)
    return 0
  } finally {
    db.close()
  }
}
