// `serve` start on a store of 1M users with 10 grants each (issue 13, "a compact index that starts fast").
// Run after a build:
//   npm run build --silent && node bench/serve-start.bench.js
// USERS=1000000 chooses the size; RUNS=3 the starts timed. The store is generated once with plain
// better-sqlite3 (after the built openStore has migrated it) and kept in the temporary directory for later
// runs; FRESH=1 generates it again.
//
// Timed: spawning `node bin/custodian.js serve` on the store until its first `POST /v1/check` is answered
// (polled from the spawn on); peak RSS of the child is its VmHWM after that answer. Baseline, in the same
// run: plain better-sqlite3 reading every row of the store's users, credentials and user_grants with
// `.iterate()`, the least any start that reads the store must do. Targets: first check within 10 s, peak
// RSS under 1 GB.
//
// Store: the users of bench/entitlement-workload.js (as bench/admin-writes.bench.js), with argon2id-length
// password hashes and display names. One access token, of a user who is not an administrator, asks the checks.
//
// ASK_ALL=1 then asks about every user once, as `POST /v1/checks` of 100 questions naming users in turn (an
// administrator's token, added to the store if missing), and reports the child's RSS after that: what serving
// a million users costs beyond the start (the Index keeps what each combination of grants asked about holds).
// The peak RSS of the targets is then the higher of the two.

import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { openStore } from '../dist/store/store.js'
import { ADMINS, definitions, grantsOf, PERMISSIONS } from './entitlement-workload.js'

const USERS = Number(process.env.USERS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 3)
const NOW = '2026-12-01T00:00:00.000Z'
const FAR = '2099-01-01T00:00:00.000Z'
const ASKER = `user${ADMINS + 490}` // holds p20 directly: (500 + 0 * 7) % 30
const TOKEN_ID = 'servestartbench'
const TOKEN_SECRET = 'the-secret-part-of-the-bench-token'
const ADMIN_TOKEN_ID = 'servestartadmin' // of user0, who holds `admins`
const ASK_ALL = process.env.ASK_ALL === '1'
const DB = join(tmpdir(), `custodian-serve-start-${USERS}.db`)
// CUSTODIAN_BIN=/path/to/bin/custodian.js times another build (the code before the change, say).
const CLI = process.env.CUSTODIAN_BIN ?? new URL('../bin/custodian.js', import.meta.url).pathname

const fmt = (n) => Math.round(n).toLocaleString('en-US')

/** Generates the store under another name, renamed when complete, so that an interrupted run leaves none. */
async function generate() {
  const part = `${DB}.part`
  for (const suffix of ['', '-wal', '-shm']) rmSync(part + suffix, { force: true })
  const store = await openStore(part) // the migrations, as the server runs them
  await store.close()
  const db = new Database(part)
  db.pragma('journal_mode = WAL')
  const statements = new Map()
  // INSERT OR IGNORE: the migrations define `admin` already.
  const insert = (tbl, row) => {
    if (!statements.has(tbl)) {
      const columns = Object.keys(row)
      const sql = `INSERT OR IGNORE INTO ${tbl} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`
      statements.set(tbl, db.prepare(sql))
    }
    statements.get(tbl).run(row)
  }
  db.transaction(() => {
    for (const [tbl, row] of definitions()) insert(tbl, row)
    for (let i = 0; i < USERS; i++) {
      const u = `user${i}`
      insert('users', { id: u, name: `User Number ${i}` })
      // The length of an argon2id PHC string, unique per user as real ones are.
      const secret_hash = `$argon2id$v=19$m=19456,t=2,p=1$${'s'.repeat(22)}$${String(i).padStart(43, 'h')}`
      insert('credentials', { user_id: u, kind: 'password', secret_hash })
      for (const [kind, target] of grantsOf(i))
        insert('user_grants', { user_id: u, grant_kind: kind, target_id: target })
    }
    insert('access_tokens', {
      id: TOKEN_ID,
      user_id: ASKER,
      secret_hash: createHash('sha256').update(TOKEN_SECRET).digest('hex'),
      method: 'password',
      created_at: NOW,
      expires_at: FAR,
      idle_timeout_seconds: 10 * 365 * 86_400,
      last_used_at: NOW,
      ended_at: null,
    })
  })()
  db.pragma('journal_mode = DELETE')
  db.close()
  renameSync(part, DB)
}

/** An administrator's token for ASK_ALL, added to a store generated before it was needed. */
function addAdminToken() {
  const db = new Database(DB)
  db.prepare(
    `INSERT OR IGNORE INTO access_tokens (id, user_id, secret_hash, method, created_at, expires_at,
       idle_timeout_seconds, last_used_at, ended_at) VALUES (?, 'user0', ?, 'password', ?, ?, ?, ?, NULL)`,
  ).run(
    ADMIN_TOKEN_ID,
    createHash('sha256').update(TOKEN_SECRET).digest('hex'),
    NOW,
    FAR,
    10 * 365 * 86_400,
    NOW,
  )
  db.close()
}

const currentRss = (pid) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024

/** Asks about every user once, 100 questions a request, 8 requests in flight. */
async function askAll(url) {
  let next = 0
  let allowed = 0
  const worker = async () => {
    while (next < USERS) {
      const from = next
      next += 100
      const questions = []
      for (let i = from; i < Math.min(from + 100, USERS); i++)
        questions.push({
          permission: `p${(i * 11) % PERMISSIONS}`,
          resource: `res${i % 100}`,
          user: `user${i}`,
        })
      const response = await fetch(`${url}/v1/checks`, {
        method: 'POST',
        headers: {
          authorization: `Bearer cst_${ADMIN_TOKEN_ID}.${TOKEN_SECRET}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ questions }),
      })
      if (response.status !== 200)
        throw new Error(`POST /v1/checks: ${response.status} ${await response.text()}`)
      for (const answer of (await response.json()).answers) if (answer.allowed) allowed++
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  return allowed
}

/** Plain better-sqlite3 reading every row a start must read at least: the baseline. */
function readBaseline() {
  const db = new Database(DB, { readonly: true })
  const start = performance.now()
  let rows = 0
  db.transaction(() => {
    for (const tbl of ['users', 'credentials', 'user_grants'])
      for (const _row of db.prepare(`SELECT * FROM ${tbl}`).iterate()) rows++
  })()
  const ms = performance.now() - start
  db.close()
  return { ms, rows }
}

const peakRss = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
}

/** Spawns `serve`, polls its first check, and reports the time to the answer and the peak RSS. */
async function startOnce() {
  const start = performance.now()
  const child = spawn(process.execPath, [CLI, 'serve', '--db', DB, '--port', '0', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let errors = ''
  child.stderr.on('data', (chunk) => {
    errors += chunk
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  let banner = ''
  child.stdout.on('data', (chunk) => {
    banner += chunk
  })
  try {
    let url
    for (;;) {
      url ??= /serving at (http:\/\/\S+)/.exec(banner)?.[1]
      if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode}): ${banner}${errors}`)
      if (url) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const response = await fetch(`${url}/v1/check`, {
      method: 'POST',
      headers: {
        authorization: `Bearer cst_${TOKEN_ID}.${TOKEN_SECRET}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ permission: 'p20', resource: 'res1' }),
    })
    const answer = await response.json()
    const ms = performance.now() - start
    if (!answer.allowed) throw new Error(`the first check was not allowed: ${JSON.stringify(answer)}`)
    if (!ASK_ALL) return { ms, rss: peakRss(child.pid) }
    const asked = performance.now()
    const allowed = await askAll(url)
    const seconds = (performance.now() - asked) / 1000
    console.log(
      `  every user asked about once: ${fmt(USERS / seconds)} decisions/s (${fmt(allowed)} allowed); RSS then ` +
        `${fmt(currentRss(child.pid) / 2 ** 20)} MB, peak ${fmt(peakRss(child.pid) / 2 ** 20)} MB`,
    )
    return { ms, rss: peakRss(child.pid) } // the start's peak, or the asking's if higher
  } finally {
    child.kill('SIGTERM')
    await exited
  }
}

if (process.env.FRESH === '1' || !existsSync(DB)) {
  const t0 = performance.now()
  await generate()
  console.log(`generated ${DB} in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
}
if (ASK_ALL) addAdminToken()
console.log(`node ${process.version}; ${fmt(USERS)} users x 10 grants; ${RUNS} starts`)
const results = []
for (let run = 0; run < RUNS; run++) {
  const baseline = readBaseline()
  const started = await startOnce()
  results.push({ ...started, baseline: baseline.ms })
  console.log(
    `run ${run + 1}: first check ${(started.ms / 1000).toFixed(2)} s, peak RSS ${fmt(started.rss / 2 ** 20)} MB; ` +
      `baseline (better-sqlite3 iterate of ${fmt(baseline.rows)} rows) ${(baseline.ms / 1000).toFixed(2)} s; ` +
      `ratio ${(started.ms / baseline.ms).toFixed(2)}x`,
  )
}
const best = results.reduce((a, b) => (b.ms < a.ms ? b : a))
const worst = results.reduce((a, b) => (b.ms > a.ms ? b : a))
const rss = Math.max(...results.map((r) => r.rss))
console.log(
  `best: first check ${(best.ms / 1000).toFixed(2)} s (${(best.ms / best.baseline).toFixed(2)}x the baseline); ` +
    `worst ${(worst.ms / 1000).toFixed(2)} s; highest peak RSS ${fmt(rss / 2 ** 20)} MB`,
)
console.log(`target first check <= 10 s: ${best.ms <= 10_000 ? 'MET' : 'NOT MET'}`)
console.log(`target peak RSS < 1 GB: ${rss < 2 ** 30 ? 'MET' : 'NOT MET'}`)
