// Bulk provisioning (issue 13): `custodian import entitlements FILE` of 1M users with a password and 10 grants
// each, into a fresh SQLite store, run as a person would (the command as a child process, its whole wall time:
// start, reading and checking the file, the one write transaction with its change records, the audit record).
// Run after a build:
//   npm run build --silent && node --max-old-space-size=8192 bench/import-entitlements.bench.js
// USERS=1000000 (default) sets the size; RUNS=1 the number of timed imports (each into a fresh store);
// PROFILE_DIR=<dir> writes a CPU profile of each import.
//
// Baseline (house rule: a ratio against something measured in the same run): a plain better-sqlite3 insert of
// the same table rows in one transaction, one reused prepared statement a table, the same pragmas (WAL,
// synchronous FULL, a 512 MB page cache), into a fresh store of the same schema, rows generated in memory before timing (no file,
// no checks, no change log). Target: at least 100 k rows/s for the import.

import { spawn } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { hash } from '@node-rs/argon2'
import Database from 'better-sqlite3'
import { openStore } from '../dist/store/store.js'
import { prng } from './prng.js'

const USERS = Number(process.env.USERS ?? 1_000_000)
const RUNS = Number(process.env.RUNS ?? 1)
const PERMISSIONS = 30
const ROLES = 20
const RESOURCES = 100
const CLI = new URL('../bin/custodian.js', import.meta.url).pathname

const dir = mkdtempSync(join(tmpdir(), 'custodian-import-bench-'))
// One argon2id hash for every user: hashing a million passwords is not what is measured (the file carries
// pre-hashed credentials, as an identity provider's export would).
const PASSWORD_HASH = await hash('bench password')

/** Every record of the store, in file order: definitions, then each user with its credential and grants. */
function* records() {
  for (let p = 0; p < PERMISSIONS; p++) yield { type: 'permission', id: `p${p}`, name: `Permission ${p}` }
  for (let r = 0; r < ROLES; r++)
    yield { type: 'role', id: `r${r}`, permissions: [`p${r % PERMISSIONS}`, `p${(r + 7) % PERMISSIONS}`] }
  for (let s = 0; s < RESOURCES; s++)
    yield { type: 'resource', id: `site${s}`, ...(s >= 10 ? { parent: `site${s % 10}` } : {}) }
  for (let s = 0; s < RESOURCES; s++)
    yield { type: 'resource_role', id: `rr${s}`, role: `r${s % ROLES}`, resource: `site${s}` }
  const random = prng(13)
  const pick = (n, count) => {
    const chosen = new Set()
    while (chosen.size < count) chosen.add(Math.floor(random() * n))
    return [...chosen]
  }
  for (let u = 0; u < USERS; u++) {
    const id = `user${u}`
    yield { type: 'user', id, name: `User ${u}` }
    yield { type: 'credential', user: id, password_hash: PASSWORD_HASH }
    for (const r of pick(ROLES, 4)) yield { type: 'grant', user: id, role: `r${r}` }
    for (const p of pick(PERMISSIONS, 3)) yield { type: 'grant', user: id, permission: `p${p}` }
    for (const s of pick(RESOURCES, 3)) yield { type: 'grant', user: id, resource_role: `rr${s}` }
  }
}

/** The rows the records put into each table, as the baseline inserts them. */
function rowOf(record) {
  switch (record.type) {
    case 'permission':
      return ['permissions', { id: record.id, name: record.name, description: '', builtin: 0 }]
    case 'role':
      return ['roles', { id: record.id, name: record.id, description: '' }]
    case 'resource':
      return ['resources', { id: record.id, description: '', parent_id: record.parent ?? null }]
    case 'resource_role':
      return ['resource_roles', { id: record.id, role_id: record.role, resource_id: record.resource }]
    case 'user':
      return ['users', { id: record.id, name: record.name }]
    case 'credential':
      return ['credentials', { user_id: record.user, kind: 'password', secret_hash: record.password_hash }]
    case 'grant': {
      const kind = record.role ? 'role' : record.permission ? 'permission' : 'resource_role'
      return ['user_grants', { user_id: record.user, grant_kind: kind, target_id: record[kind] }]
    }
  }
}

async function writeFile(path) {
  const out = createWriteStream(path)
  let buffer = ''
  for (const record of records()) {
    buffer += `${JSON.stringify(record)}\n`
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise((resolve) => out.once('drain', resolve))
      buffer = ''
    }
  }
  out.end(buffer)
  await new Promise((resolve) => out.on('finish', resolve))
}

async function freshStore(name) {
  const target = join(dir, name)
  const store = await openStore(target)
  await store.close()
  return target
}

async function baseline() {
  const target = await freshStore('baseline.db')
  const db = new Database(target)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = FULL')
  db.pragma('cache_size = -524288') // as the import's transaction has it
  const statements = new Map()
  const statement = (tbl, row) => {
    let found = statements.get(tbl)
    if (!found) {
      const columns = Object.keys(row)
      found = db.prepare(
        `insert into ${tbl} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`,
      )
      statements.set(tbl, found)
    }
    return found
  }
  // Generated before the clock starts: the baseline is the storage alone.
  const rows = [...records()].map(rowOf)
  const started = performance.now()
  db.transaction(() => {
    for (const [tbl, row] of rows) statement(tbl, row).run(row)
  })()
  const seconds = (performance.now() - started) / 1000
  db.close()
  return { rows: rows.length, seconds }
}

/** The peak resident memory of a running process so far (Linux: VmHWM), in MB; 0 where unknown. */
function peakMb(pid) {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb ? Math.round(Number(kb) / 1024) : 0
  } catch {
    return 0
  }
}

async function importRun(file, run) {
  const target = join(dir, `import-${run}.db`)
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [
      ...(process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`] : []),
      CLI,
      'import',
      'entitlements',
      file,
      '--db',
      target,
      '--json',
    ],
    { env: { ...process.env, LOG_LEVEL: 'warn' } },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  let peak = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakMb(child.pid))
  }, 200)
  const status = await new Promise((resolve) => child.on('close', resolve))
  clearInterval(sampler)
  const seconds = (performance.now() - started) / 1000
  if (status !== 0) throw new Error(`import failed (${status}): ${stdout}${stderr}`)
  const { rows } = JSON.parse(stdout)
  rmSync(target, { force: true })
  rmSync(`${target}-wal`, { force: true })
  return { rows, seconds, peak }
}

const rate = (r) => Math.round(r.rows / r.seconds)
try {
  const file = join(dir, 'entitlements.jsonl')
  let started = performance.now()
  await writeFile(file)
  console.log(
    `file: ${USERS} users, ${(statSync(file).size / 1e6).toFixed(0)} MB, written in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  )
  const base = await baseline()
  console.log(
    `baseline (plain better-sqlite3, one transaction): ${base.rows} rows in ${base.seconds.toFixed(2)} s = ${rate(base)} rows/s`,
  )
  for (let run = 1; run <= RUNS; run++) {
    started = performance.now()
    const imported = await importRun(file, run)
    console.log(
      `custodian import entitlements: ${imported.rows} rows in ${imported.seconds.toFixed(2)} s = ${rate(imported)} rows/s, peak RSS ${imported.peak} MB; ` +
        `RATIO ${(rate(imported) / rate(base)).toFixed(3)} of the baseline; target 100000 rows/s ${rate(imported) >= 100_000 ? 'MET' : 'NOT MET'}`,
    )
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
