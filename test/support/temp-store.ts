import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { Config } from '../../src/config.js'
import { Custodian } from '../../src/custodian.js'

export const POSTGRES_ADMIN_URL =
  process.env.CUSTODIAN_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** A fresh SQLite file in its own temporary folder; `remove` deletes the folder. */
export function tempSqlite(): { target: string; dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-test-'))
  return {
    target: join(dir, 'custodian.db'),
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** A fresh PostgreSQL database for one test file; `remove` drops it. */
export async function tempPostgres(): Promise<{ target: string; remove: () => Promise<void> }> {
  const name = `custodian_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  const adminClient = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
  await adminClient.connect()
  await adminClient.query(`create database ${name}`)
  await adminClient.end()
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    target: url.toString(),
    remove: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL })
      await client.connect()
      await client.query(`drop database if exists ${name} with (force)`)
      await client.end()
    },
  }
}

/** Every store backend, for suites that run once per backend (`describe.each(storeBackends)`). */
export const storeBackends = [
  {
    name: 'SQLite',
    make: async () => {
      const t = tempSqlite()
      return { target: t.target, remove: async () => t.remove() }
    },
  },
  { name: 'PostgreSQL', make: tempPostgres },
]

/** A Custodian on a fresh store of `make`'s backend (not following the change feed), and how to close both. */
export async function custodianOn(
  make: () => Promise<{ target: string; remove: () => Promise<void> }>,
  options: { clock?: () => number; config?: Partial<Config> } = {},
): Promise<{ custodian: Custodian; close: () => Promise<void> }> {
  const temp = await make()
  const custodian = await Custodian.open({
    db: temp.target,
    ...(options.clock ? { clock: options.clock } : {}),
    follow: false,
    config: { logLevel: 'silent', ...options.config },
  })
  return {
    custodian,
    close: async () => {
      await custodian.close()
      await temp.remove()
    },
  }
}
