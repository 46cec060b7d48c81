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
// Store: as bench/admin-writes.bench.js: each user has a password (an argon2id-length hash) and 10 grants
// (4 roles of 20, 3 permissions of 30, 3 resource roles of 100); 10 administrators hold `admin` through the
// role `admins`. One access token, of a user who is not an administrator, asks the checks.

import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import Database from 'better-sqlite3'
import { openStore } from '../dist/store/store.js'

const USERS = Number(process.env.USERS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 3)
const ROLES = 20
const PERMISSIONS = 30
const RESOURCE_ROLES = 100
const ADMINS = 10
const NOW = '2026-12-01T00:00:00.000Z'
const FAR = '2099-01-01T00:00:00.000Z'
const ASKER = `user${ADMINS + 490}` // holds p20 directly: (500 + 0 * 7) % 30
const TOKEN_ID = 'servestartbench'
const TOKEN_SECRET = 'the-secret-part-of-the-bench-token'
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
  const insert = (sql) => db.prepare(sql)
  const permission = insert('INSERT INTO permissions (id, name, description, builtin) VALUES (?, ?, ?, ?)')
  const role = insert('INSERT INTO roles (id, name, description) VALUES (?, ?, ?)')
  const entitles = insert(
    'INSERT INTO role_entitlements (role_id, entitlement_kind, entitlement_id) VALUES (?, ?, ?)',
  )
  const resource = insert('INSERT INTO resources (id, description, parent_id) VALUES (?, ?, NULL)')
  const resourceRole = insert('INSERT INTO resource_roles (id, role_id, resource_id) VALUES (?, ?, ?)')
  const user = insert('INSERT INTO users (id, name) VALUES (?, ?)')
  const credential = insert('INSERT INTO credentials (user_id, kind, secret_hash) VALUES (?, ?, ?)')
  const grant = insert('INSERT INTO user_grants (user_id, grant_kind, target_id) VALUES (?, ?, ?)')
  const token = insert(
    `INSERT INTO access_tokens (id, user_id, secret_hash, method, created_at, expires_at, idle_timeout_seconds,
       last_used_at, ended_at) VALUES (?, ?, ?, 'password', ?, ?, ?, ?, NULL)`,
  )
  db.transaction(() => {
    // The migrations define `admin` already.
    db.prepare(
      "INSERT OR IGNORE INTO permissions (id, name, description, builtin) VALUES ('admin', 'admin', '', 1)",
    ).run()
    for (let p = 0; p < PERMISSIONS; p++) permission.run(`p${p}`, `p${p}`, `permission ${p}`, 0)
    role.run('admins', 'admins', 'administrators')
    entitles.run('admins', 'permission', 'admin')
    for (let r = 0; r < ROLES; r++) {
      role.run(`r${r}`, `r${r}`, `role ${r}`)
      for (let k = 0; k < 3; k++) entitles.run(`r${r}`, 'permission', `p${(r * 3 + k) % PERMISSIONS}`)
      if (r % 4 === 1) entitles.run(`r${r}`, 'role', `r${r - 1}`)
    }
    for (let i = 0; i < RESOURCE_ROLES; i++) {
      resource.run(`res${i}`, `resource ${i}`)
      resourceRole.run(`rr${i}`, `r${i % ROLES}`, `res${i}`)
    }
    for (let i = 0; i < USERS; i++) {
      const u = `user${i}`
      user.run(u, `User Number ${i}`)
      // The length of an argon2id PHC string, unique per user as real ones are.
      credential.run(
        u,
        'password',
        `$argon2id$v=19$m=19456,t=2,p=1$${'s'.repeat(22)}$${String(i).padStart(43, 'h')}`,
      )
      for (let k = 0; k < 4; k++) grant.run(u, 'role', `r${(i + k * 5) % ROLES}`)
      for (let k = 0; k < 3; k++) grant.run(u, 'permission', `p${(i + k * 7) % PERMISSIONS}`)
      for (let k = 0; k < 3; k++) grant.run(u, 'resource_role', `rr${(i + k * 31) % RESOURCE_ROLES}`)
    }
    for (let i = 0; i < ADMINS; i++) grant.run(`user${i}`, 'role', 'admins')
    const hash = createHash('sha256').update(TOKEN_SECRET).digest('hex')
    token.run(TOKEN_ID, ASKER, hash, NOW, FAR, 10 * 365 * 86_400, NOW)
  })()
  db.pragma('journal_mode = DELETE')
  db.close()
  renameSync(part, DB)
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
    return { ms, rss: peakRss(child.pid) }
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
