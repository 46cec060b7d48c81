import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { ALICE } from '../support/customers.js'
import { CLI } from '../support/server.js'
import { tempPostgres, tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

const READINGS = 200_000
const START = Date.UTC(2016, 0, 1) / 1000

/** A CSV of 15-minute readings for the front meter, large enough that its import takes a while. */
function csvFile(dir: string): string {
  const lines = ['usage_point,start,duration,value']
  for (let i = 0; i < READINGS; i++) lines.push(`up_front,${START + i * 900},900,${i % 97}`)
  const file = join(dir, 'ten-years.csv')
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

const backends = [
  {
    name: 'SQLite',
    make: async () => {
      const temp = tempSqlite()
      return {
        target: temp.target,
        remove: async () => temp.remove(),
        // A large transaction spills its pages to the write-ahead log as it goes.
        writing: async () =>
          existsSync(`${temp.target}-wal`) && statSync(`${temp.target}-wal`).size > 4_000_000,
        readings: async () => {
          const db = new Database(temp.target, { readonly: true })
          const n = (db.prepare('select count(*) as n from gb_readings').get() as { n: number }).n
          db.close()
          return n
        },
      }
    },
  },
  {
    name: 'PostgreSQL',
    make: async () => {
      const temp = await tempPostgres()
      const query = async (text: string) => {
        const client = new pg.Client({ connectionString: temp.target })
        await client.connect()
        try {
          return (await client.query(text)).rows[0] as { n: number }
        } finally {
          await client.end()
        }
      }
      return {
        ...temp,
        // A transaction of this database that has written something (it holds a transaction id).
        writing: async () =>
          (
            await query(
              'select count(*)::int as n from pg_stat_activity where datname = current_database() and backend_xid is not null',
            )
          ).n > 0,
        readings: async () => (await query('select count(*)::int as n from gb_readings')).n,
      }
    },
  },
]

/** A Green Button import killed with SIGKILL half-way: nothing of it is stored, and the next one stores it all. */
describe.each(backends)('kill -9 during an import ($name)', ({ make }) => {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-import-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is all or nothing', async () => {
    const store = await make()
    try {
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [CLI, ...args, '--db', store.target], {
          encoding: 'utf8',
          env: { ...process.env, LOG_LEVEL: 'warn' },
        })
      expect(
        run('create_customer', ALICE.username, ALICE.name, ALICE.email, ALICE.accountNumber, ALICE.password)
          .status,
      ).toBe(0)
      expect(run('create_usage_point', ALICE.username, 'Front meter', 'electricity', 'up_front').status).toBe(
        0,
      )
      const file = csvFile(dir)

      const importing = spawn(process.execPath, [CLI, 'import', 'greenbutton', file, '--db', store.target], {
        env: { ...process.env, LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      })
      const exited = once(importing, 'exit')
      await until(
        'the import to be writing',
        async () => importing.exitCode === null && (await store.writing()),
      )
      expect(importing.exitCode).toBe(null) // killed in the middle, not after
      importing.kill('SIGKILL')
      await exited

      expect(await store.readings()).toBe(0)
      const again = run('import', 'greenbutton', file)
      expect(again.stderr).toBe('')
      expect(again.status).toBe(0)
      expect(await store.readings()).toBe(READINGS)
      const verify = run('audit', 'verify')
      expect(verify.status).toBe(0)
      expect(verify.stdout).toMatch(/audit log intact/)
    } finally {
      await store.remove()
    }
  }, 120_000)
})
