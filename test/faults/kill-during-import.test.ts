import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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
        count: async (query: string) => {
          const db = new Database(temp.target, { readonly: true })
          const n = (db.prepare(query).get() as { n: number }).n
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
      return { ...temp, count: async (text: string) => Number((await query(text)).n) }
    },
  },
]

/**
 * A Green Button import killed with SIGKILL half-way, in each of its phases (staged-import.ts): killed while
 * staging, nothing of it is published and its staged rows are dropped; killed after it committed, the next
 * process to open the store publishes all of it. Either way, the next import stores it all.
 */
const phases = [
  { phase: 'staging', published: 0 },
  { phase: 'publishing', published: READINGS },
] as const

describe.each(backends)('kill -9 during an import ($name)', ({ make }) => {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-import-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const file = csvFile(dir)

  it.each(phases)('is all or nothing when killed while $phase', async ({ phase, published }) => {
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
      const readings = () => store.count('select count(*) as n from gb_readings')
      const staged = () => store.count('select count(*) as n from gb_staged_blocks')

      const importing = spawn(process.execPath, [CLI, 'import', 'greenbutton', file, '--db', store.target], {
        env: { ...process.env, LOG_LEVEL: 'warn' },
        stdio: 'ignore',
      })
      const exited = once(importing, 'exit')
      await until(
        `the import to be ${phase}`,
        async () =>
          importing.exitCode === null &&
          (await store.count(`select count(*) as n from gb_imports where state = '${phase}'`)) > 0 &&
          (await staged()) > 0,
        60_000,
      )
      importing.kill('SIGKILL')
      await exited
      expect(importing.signalCode).toBe('SIGKILL') // killed in the middle, not after
      if (phase === 'staging') expect(await readings()).toBe(0)

      // The next process to open the store finishes or drops what the dead one left.
      const verify = run('audit', 'verify')
      expect(verify.status).toBe(0)
      expect(verify.stdout).toMatch(/audit log intact/)
      expect(await readings()).toBe(published)
      expect(await staged()).toBe(0)
      expect(await store.count('select count(*) as n from gb_imports')).toBe(0)

      const again = run('import', 'greenbutton', file)
      expect(again.stderr).toBe('')
      expect(again.status).toBe(0)
      expect(again.stdout).toMatch(`${READINGS} readings (${READINGS - published} new or revised)`)
      expect(await readings()).toBe(READINGS)
    } finally {
      await store.remove()
    }
  }, 180_000)
})
