// Checks answered while a bulk import runs (issue 13): `custodian serve` as a child process answers POST
// /v1/check, one at a time every 20 ms, while `custodian import entitlements FILE` runs in another process on
// the same store (SQLite, a temporary folder; PostgreSQL, a temporary database), and for a while after it, as
// the serving node reads the import from the change log. Run after a build:
//   npm run build --silent && node bench/checks-during-import.bench.js
//
// Baseline (a ratio against something measured in the same run, since absolute figures drift on shared
// machines): the same checks for 5 s before the import starts, on the same server (the first 10, which warm
// it up, not counted). Printed: the slowest check at rest and during the import and its ratio, how many took
// over 100 ms and over 1 s, and the 503 answers (a node reading an import of more than 100,000 changes
// answers 503 until it has read all of it).
// Settings: BACKENDS (default "sqlite,postgres"), PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// USERS (users in the file, each with one grant: 2 rows a user; default 1,500,000), AFTER (ms of checks after
// the import's process ends, default 10,000), LOGINS (users logging in over HTTP throughout, each a second after
// its last answer, default 12: a write waits for the import's lock, and must not take what checks need).

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { GENESIS_HASH, verifyAuditChain } from '../dist/audit/chain.js'
import { Custodian } from '../dist/custodian.js'
import { openStore } from '../dist/store/store.js'
import {
  issueTokens,
  postgresDatabase,
  provisioningScript,
  runProvisioning,
  startChild,
  usersWithAGrant,
  world,
} from './check-world.js'

const BACKENDS = (process.env.BACKENDS ?? 'sqlite,postgres').split(',')
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const USERS = Number(process.env.USERS ?? 1_500_000)
const AFTER = Number(process.env.AFTER ?? 10_000)
const LOGINS = Number(process.env.LOGINS ?? 12)
const REST_MS = 5_000
const EVERY_MS = 20
const CLI = new URL('../bin/custodian.js', import.meta.url).pathname

/** The check world, an administrator and one user's token; the administrator's token. */
async function provision(db, w) {
  const custodian = await Custodian.open({ db, follow: false, config: { logLevel: 'silent' } })
  try {
    await runProvisioning(custodian, [
      ...provisioningScript(w),
      ...Array.from({ length: LOGINS }, (_, i) => [
        `create_user login${i}, Login ${i}`,
        `add_user_credential login${i}, password, secret ${i}`,
      ]).flat(),
      'create_user root, Root',
      'add_user_credential root, password, root secret',
      'add_role_to_user root, admin',
    ])
    const [token] = await issueTokens(custodian, w.users.slice(0, 1))
    return { token, admin: (await custodian.login('root', 'root secret')).token }
  } finally {
    await custodian.close()
  }
}

/** Checks one at a time until `until()` says stop: [started at (ms from t0), took (ms), status] each. */
async function checks(url, token, body, t0, until) {
  const seen = []
  while (!until()) {
    const start = performance.now()
    const response = await fetch(`${url}/v1/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body,
    })
    const text = await response.text()
    seen.push([
      start - t0,
      performance.now() - start,
      response.status,
      response.status === 503 ? JSON.parse(text).detail : undefined,
    ])
    await new Promise((resolve) => setTimeout(resolve, EVERY_MS))
  }
  return seen
}

/** User `i` logs in again and again, a second apart, until `until()` says stop: [took (ms), status] each. */
async function logins(url, i, until) {
  const seen = []
  while (!until()) {
    const start = performance.now()
    const response = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: `login${i}`, password: `secret ${i}` }),
    })
    await response.text()
    seen.push([performance.now() - start, response.status])
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
  return seen
}

/** The audit records of the checks asked (`check:control_door`), and the problems of the whole chain. */
async function auditedChecks(db) {
  const store = await openStore(db)
  try {
    const all = []
    for (let rows = await store.readAudit(0, 1000); rows.length > 0; ) {
      all.push(...rows)
      rows = await store.readAudit(rows.at(-1).seq, 1000)
    }
    const { problems } = verifyAuditChain(all, { seq: 0, hash: GENESIS_HASH })
    return { checks: all.filter((r) => r.action === 'check:control_door').length, problems: problems.length }
  } finally {
    await store.close()
  }
}

const slowest = (seen) => Math.max(...seen.map(([, took]) => took))
const ms = (n) => `${Math.round(n).toLocaleString('en')} ms`

async function benchBackend(backend, dir, w) {
  const target =
    backend === 'postgres'
      ? await postgresDatabase(PG_URL, `custodian_bench_import_${process.pid}`)
      : { db: join(dir, 'custodian.db'), drop: async () => {} }
  try {
    const { token, admin } = await provision(target.db, w)
    const file = await usersWithAGrant(join(dir, 'people.jsonl'), USERS, 'imported')
    const server = startChild([CLI, 'serve', '--port', '0', '--db', target.db])
    try {
      const url = await server.url
      const body = JSON.stringify({ permission: 'control_door', resource: w.users[0].house.id })
      const t0 = performance.now()
      // The first checks warm the server up (compilation, the token's first verification): not counted.
      const warm = await checks(url, token, body, t0, () => performance.now() - t0 > REST_MS)
      const rest = warm.slice(10)
      let endedAt = 0
      const started = performance.now()
      const run = spawn(process.execPath, [CLI, 'import', 'entitlements', file, '--db', target.db], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CUSTODIAN_TOKEN: admin, LOG_LEVEL: 'warn' },
      })
      let output = ''
      run.stdout.on('data', (d) => {
        output += d
      })
      run.stderr.on('data', (d) => {
        output += d
      })
      const exited = new Promise((resolve) =>
        run.on('exit', (code) => {
          endedAt = performance.now()
          resolve(code)
        }),
      )
      const over = () => endedAt && performance.now() - endedAt > AFTER
      const loggingIn = Promise.all(Array.from({ length: LOGINS }, (_, i) => logins(url, i, over)))
      const during = await checks(url, token, body, started, over)
      const tried = (await loggingIn).flat()
      if ((await exited) !== 0) throw new Error(`the import failed:\n${output}`)
      const unavailable = during.filter(([, , status]) => status === 503)
      const other = during.filter(([, , status]) => status !== 200 && status !== 503)
      if (other.length > 0) throw new Error(`unexpected answers: ${JSON.stringify(other.slice(0, 5))}`)
      console.log(
        `${backend}: ${(2 * USERS).toLocaleString('en')} rows imported in ${ms(endedAt - started)} (${output.trim().split('\n').at(-1)})`,
      )
      console.log(`  at rest:         ${rest.length} checks, the slowest ${ms(slowest(rest))}`)
      console.log(
        `  during, and ${AFTER / 1000} s after: ${during.length} checks, the slowest ${ms(slowest(during))}; over 100 ms: ${during.filter(([, took]) => took > 100).length}, over 1 s: ${during.filter(([, took]) => took > 1000).length}`,
      )
      console.log(
        unavailable.length > 0
          ? `  503: ${unavailable.length}, from ${ms(unavailable[0][0])} to ${ms(unavailable.at(-1)[0])} after the import started: ${[...new Set(unavailable.map(([, , , detail]) => detail.replace(/\b\d+ s\b/g, 'N s')))].join('; ')}`
          : '  503: none',
      )
      const statuses = Object.entries(Object.groupBy(tried, ([, status]) => status))
      console.log(
        `  meanwhile, ${LOGINS} users logging in a second apart: ${tried.length} logins, the slowest ${ms(Math.max(...tried.map(([took]) => took)))}; ${statuses.map(([status, list]) => `${status}: ${list.length}`).join(', ')}`,
      )
      console.log(
        `  ratio: slowest during / slowest at rest = ${(slowest(during) / slowest(rest)).toFixed(1)}`,
      )
      await server.stop()
      const answered = [...warm, ...during].filter(([, , status]) => status === 200).length
      const audit = await auditedChecks(target.db)
      console.log(
        `  audit: ${audit.checks.toLocaleString('en')} records of these checks for ${answered.toLocaleString('en')} answered; the chain ${audit.problems === 0 ? 'verified' : `has ${audit.problems} problem(s)`}`,
      )
      if (audit.checks !== answered || audit.problems > 0)
        throw new Error('a check answered without its record')
    } finally {
      await server.stop()
    }
  } finally {
    await target.drop()
  }
}

const w = world(7)
for (const backend of BACKENDS) {
  const dir = mkdtempSync(join(tmpdir(), `custodian-import-checks-${backend}-`))
  try {
    await benchBackend(backend, dir, w)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
