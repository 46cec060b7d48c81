import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'

/** How often the checkpointer copies the write-ahead log into the database. */
const EVERY_MS = 100

// The worker's code, as a CommonJS script: it opens its own connection, so its checkpoints (page copies and
// an fsync of the database file, at times a quarter of a second) block no one but itself. PASSIVE waits for
// no reader or writer; a checkpoint already running elsewhere answers busy, and the next turn tries again.
const WORKER = `
const { workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const db = new Database(workerData.file)
setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch (error) {
    if (error.code !== 'SQLITE_BUSY' && error.code !== 'SQLITE_LOCKED') throw error
  }
}, workerData.everyMs)
`

/**
 * Moves SQLite's write-ahead log checkpoints off the event loop, for a long-running server. By default the
 * connection that commits past 1,000 pages of log copies them into the database itself, inside its COMMIT:
 * on the event loop, every request waits for it (a 10-year import makes dozens of them). Here the serving
 * connection never checkpoints, and a worker thread does, every 100 ms. If the worker fails, the connection
 * checkpoints itself again. Answers how to stop it.
 */
export function checkpointInBackground(
  sqlite: BetterSqlite3.Database,
  file: string,
  onError: (error: Error) => void,
): () => Promise<void> {
  sqlite.pragma('wal_autocheckpoint = 0')
  const module = createRequire(import.meta.url).resolve('better-sqlite3')
  const worker = new Worker(WORKER, { eval: true, workerData: { module, file, everyMs: EVERY_MS } })
  worker.unref()
  const autocheckpoint = () => sqlite.open && sqlite.pragma('wal_autocheckpoint = 1000')
  worker.once('error', (error) => {
    autocheckpoint()
    onError(error)
  })
  return async () => {
    autocheckpoint()
    await worker.terminate()
  }
}
