// A write on a node that has not yet read another process's bulk import (issue 13): a login on a serving node
// right after `custodian import entitlements` committed millions of changes in another process. A write reads
// under the store's write lock at most PENDING_LIMIT changes it has not seen; further behind, the node catches
// up outside the lock first. Run after a build: `npm run build --silent && node --expose-gc
// bench/write-behind-import.bench.js`.
//
// Baseline (a ratio against something measured in the same run, since absolute figures drift on shared
// machines): the same node reading an import of the same size with no write waiting (`catchUp()`), its time
// and the memory it takes on top of what it held before. The login behind an import should cost about that
// catch-up and a login, not more: before the limit, it read the whole import in one go under the lock.
// Workload: a node opened on the store, reading the change log only when told (a serving node between two
// polls), an administrator; then twice an import of USERS new users with a grant each (2
// rows a user) by `custodian import entitlements` in another process: after the first the node catches up
// (the baseline), after the second it logs in (the measured write), while another node, up to date, logs in
// every 50 ms (does it wait for the write lock meanwhile? In this process: it also waits for the event loop,
// which the other reads on a page at a time).
// Settings: BACKENDS (default "sqlite,postgres"), PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// USERS (default 1,500,000: 3,000,000 changes an import).

import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Custodian } from '../dist/custodian.js'
import { postgresDatabase, runProvisioning, usersWithAGrant } from './check-world.js'

const BACKENDS = (process.env.BACKENDS ?? 'sqlite,postgres').split(',')
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const USERS = Number(process.env.USERS ?? 1_500_000)
const CLI = new URL('../bin/custodian.js', import.meta.url).pathname
const run = promisify(execFile)

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc so each phase starts from a collected heap')
  process.exit(2)
}

/** Runs `task`, sampling this process's RSS: its time, and its peak RSS above the RSS before it (MB). */
async function measured(task) {
  globalThis.gc()
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 5)
  const t0 = performance.now()
  await task()
  const ms = performance.now() - t0
  clearInterval(sampler)
  peak = Math.max(peak, process.memoryUsage().rss)
  return { ms, extraMb: (peak - before) / 2 ** 20 }
}

async function benchBackend(backend, dir) {
  const target =
    backend === 'postgres'
      ? await postgresDatabase(PG_URL, `custodian_behind_${process.pid}`)
      : { db: join(dir, 'custodian.db'), drop: async () => {} }
  // Not following the change log (PostgreSQL would tell it of the import at once): it reads when told.
  const node = await Custodian.open({ db: target.db, follow: false, config: { logLevel: 'silent' } })
  let other
  try {
    await runProvisioning(node, [
      'define_permission control_door, control_door, control_door',
      'create_user root, Root',
      'add_user_credential root, password, root secret',
      'add_role_to_user root, admin',
    ])
    const admin = (await node.login('root', 'root secret')).token
    const atRest = await measured(() => node.login('root', 'root secret'))
    other = await Custodian.open({ db: target.db, follow: false, config: { logLevel: 'silent' } })
    const importUsers = async (prefix) => {
      const file = await usersWithAGrant(join(dir, `${prefix}.jsonl`), USERS, prefix)
      await run(process.execPath, [CLI, 'import', 'entitlements', file, '--db', target.db], {
        env: { ...process.env, CUSTODIAN_TOKEN: admin, LOG_LEVEL: 'warn' },
        maxBuffer: 16 * 2 ** 20,
      })
      rmSync(file)
    }

    await importUsers('first')
    const caughtUp = await measured(() => node.catchUp())
    await importUsers('second')
    await other.catchUp()
    // Meanwhile another node, up to date, logs in every 50 ms: how long does it wait for the lock?
    let done = false
    const others = { slowest: 0, failed: 0, count: 0 }
    const meanwhile = (async () => {
      while (!done) {
        const t0 = performance.now()
        await other.login('root', 'root secret').catch(() => others.failed++)
        others.slowest = Math.max(others.slowest, performance.now() - t0)
        others.count++
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()
    const behind = await measured(() => node.login('root', 'root secret'))
    done = true
    await meanwhile
    if (!node.index.users.has(`second${USERS - 1}`))
      throw new Error('the login did not bring the node up to date')

    const mb = (n) => `${Math.round(n).toLocaleString('en')} MB`.padStart(9)
    const ms = (n) => `${Math.round(n).toLocaleString('en')} ms`.padStart(10)
    console.log(
      `${backend}: ${(2 * USERS).toLocaleString('en')} changes an import (${USERS.toLocaleString('en')} users)`,
    )
    console.log(`  login at rest                            ${ms(atRest.ms)}`)
    console.log(
      `  catch-up with the first import (baseline) ${ms(caughtUp.ms)}   peak RSS +${mb(caughtUp.extraMb)}`,
    )
    console.log(
      `  login behind the second import           ${ms(behind.ms)}   peak RSS +${mb(behind.extraMb)}`,
    )
    console.log(
      `  meanwhile, another node's logins (up to date): ${others.count}, the slowest ${ms(others.slowest).trim()}, ${others.failed} failed`,
    )
    console.log(
      `  ratio: login behind / catch-up = ${(behind.ms / caughtUp.ms).toFixed(2)} (time), ${(behind.extraMb / caughtUp.extraMb).toFixed(2)} (memory)\n`,
    )
  } finally {
    await other?.close()
    await node.close()
    await target.drop()
  }
}

// Each backend in a process of its own: memory a process once took stays in its RSS, and would hide the next's.
const own = process.argv.indexOf('--backend')
if (own > 0) {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-behind-'))
  try {
    await benchBackend(process.argv[own + 1], dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
} else {
  for (const backend of BACKENDS) {
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--backend', backend],
      { maxBuffer: 16 * 2 ** 20 },
    )
    process.stdout.write(stdout)
  }
}
