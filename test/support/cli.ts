import { spawnSync } from 'node:child_process'
import Database from 'better-sqlite3'
import { ALICE } from './customers.js'
import { CLI } from './server.js'

/** The `custodian` command run on one SQLite store, as a person would (quiet logs), and what it holds. */
export function cliOn(store: { target: string }) {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args, '--db', store.target], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'warn' },
    })
  /** The Green Button readings the store holds. */
  const readings = () => {
    const db = new Database(store.target, { readonly: true })
    const n = (db.prepare('select count(*) as n from gb_readings').get() as { n: number }).n
    db.close()
    return n
  }
  /** Alice and her front meter `up_front`, made on the command line; the two commands' exit codes. */
  const addAliceWithMeter = () => [
    run('create_customer', ALICE.username, ALICE.name, ALICE.email, ALICE.accountNumber, ALICE.password)
      .status,
    run('create_usage_point', ALICE.username, 'Front meter', 'electricity', 'up_front').status,
  ]
  return { run, readings, addAliceWithMeter }
}
