// Other clients during a 10-year Green Button import (issue 14): `custodian serve` as a child process on
// SQLite (or PostgreSQL), while a steady stream of other clients asks `POST /v1/check` (each answer waits for
// its audit record to commit) and logs in (`POST /v1/sessions`, argon2). Three phases, with the same load:
//   quiet        no import: the baseline, measured in the same run;
//   http import  a 10-year file (350,400 readings, 54 MB) POSTed to /v1/usage-data of the same server by
//                curl, another process, as another client would;
//   cli import   the same 10 years, every reading revised, by `custodian import greenbutton` in another process
//                (at its default nice value, 10).
// The load is open-loop (requests sent on a fixed schedule whatever the answers take), so a stall shows in
// the latencies of everything sent during it. Run after a build:
//   npm run build --silent && node bench/import-latency.bench.js
// Settings: BACKENDS (default "sqlite"; "sqlite,postgres"), PG_URL, CHECKS_PER_S (200), LOGINS_PER_S (5),
// QUIET_SECONDS (10), YEARS (10), PROFILE_DIR (a CPU profile of the server). Target: p99 of both under 100 ms during the imports, and no request failed.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import {
  ASKED,
  issueTokens,
  postgresDatabase,
  provisioningScript,
  runProvisioning,
  startChild,
  world,
} from './check-world.js'
import { fifteenMinuteReadings, greenButtonFile } from './greenbutton-file.js'
import { prng } from './prng.js'

const BACKENDS = (process.env.BACKENDS ?? 'sqlite').split(',')
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const CHECKS_PER_S = Number(process.env.CHECKS_PER_S ?? 200)
const LOGINS_PER_S = Number(process.env.LOGINS_PER_S ?? 5)
const QUIET_SECONDS = Number(process.env.QUIET_SECONDS ?? 10)
const YEARS = Number(process.env.YEARS ?? 10)
const CLI = fileURLToPath(new URL('../bin/custodian.js', import.meta.url))
const LOGIN = { user: 'user1', password: 'bench-login-password' }

async function provision(db, w) {
  const { Custodian } = await import('../dist/custodian.js')
  const custodian = await Custodian.open({ db, follow: false, config: { logLevel: 'silent' } })
  try {
    await runProvisioning(custodian, [
      ...provisioningScript(w),
      `add_user_credential ${LOGIN.user}, password, ${LOGIN.password}`,
      'create_customer alice, Alice, alice@example.com, 1001, alice-bench-password',
      'create_usage_point alice, Front meter, electricity, up_front',
    ])
    return await issueTokens(custodian, w.users)
  } finally {
    await custodian.close()
  }
}

/**
 * Sends checks and logins on a fixed schedule until `done` settles; every request's latency and whether it
 * got the answer it should (check: 200 or 403; login: 201).
 */
async function load(url, w, tokens, done) {
  const random = prng(0x14)
  const results = { check: [], login: [] }
  const failures = []
  const inFlight = new Set()
  const send = (kind, path, headers, body, ok) => {
    const start = performance.now()
    const request = fetch(`${url}${path}`, { method: 'POST', headers, body })
      .then(async (response) => {
        await response.arrayBuffer()
        if (!ok(response.status)) failures.push(`${kind}: ${response.status}`)
      })
      .catch((error) => failures.push(`${kind}: ${error.message}`))
      .finally(() => {
        results[kind].push(performance.now() - start)
        inFlight.delete(request)
      })
    inFlight.add(request)
  }
  const check = () => {
    const u = Math.floor(random() * w.users.length)
    const house = w.users[u].house
    const resource = [house.id, ...house.rooms][Math.floor(random() * 4)]
    const permission = ASKED[Math.floor(random() * ASKED.length)]
    send(
      'check',
      '/v1/check',
      { 'content-type': 'application/json', authorization: `Bearer ${tokens[u]}` },
      JSON.stringify({ permission, resource }),
      (s) => s === 200 || s === 403,
    )
  }
  const login = () =>
    send(
      'login',
      '/v1/sessions',
      { 'content-type': 'application/json' },
      JSON.stringify(LOGIN),
      (s) => s === 201,
    )
  let finished = false
  done.finally(() => {
    finished = true
  })
  const began = performance.now()
  let checks = 0
  let logins = 0
  while (!finished) {
    const elapsed = (performance.now() - began) / 1000
    while (checks < elapsed * CHECKS_PER_S) {
      check()
      checks++
    }
    while (logins < elapsed * LOGINS_PER_S) {
      login()
      logins++
    }
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  await Promise.all(inFlight)
  return { results, failures, seconds: (performance.now() - began) / 1000, outcome: await done }
}

const quantile = (list, q) => {
  const sorted = [...list].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}
const ms = (n) => `${n.toFixed(1)} ms`.padStart(9)

function report(phase, { results, failures, seconds, outcome }) {
  console.log(`  ${phase} (${seconds.toFixed(1)} s${outcome ? `; ${outcome}` : ''})`)
  for (const [kind, list] of Object.entries(results)) {
    console.log(
      `    ${kind.padEnd(6)} ${String(list.length).padStart(6)} requests  p50 ${ms(quantile(list, 0.5))}  ` +
        `p99 ${ms(quantile(list, 0.99))}  max ${ms(Math.max(...list))}`,
    )
  }
  console.log(
    `    failed: ${failures.length}${failures.length ? ` (${[...new Set(failures)].join(', ')})` : ''}`,
  )
  return {
    p99: Object.fromEntries(Object.entries(results).map(([k, list]) => [k, quantile(list, 0.99)])),
    failed: failures.length,
  }
}

async function benchBackend(backend, dir, w, files) {
  const target =
    backend === 'postgres'
      ? await postgresDatabase(PG_URL, `custodian_bench_import_${process.pid}`)
      : { db: join(dir, 'custodian.db'), drop: async () => {} }
  let server
  try {
    const tokens = await provision(target.db, w)
    const profile = process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`] : []
    server = startChild([...profile, CLI, 'serve', '--port', '0', '--db', target.db])
    const url = await server.url
    const password = /password "([^"]+)"/.exec(server.output())?.[1]
    const session = await fetch(`${url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'admin', password }),
    })
    const { token: admin } = await session.json()
    if (!admin) throw new Error(`the first administrator could not log in (${session.status})`)

    console.log(`\n${backend}: ${CHECKS_PER_S} checks/s and ${LOGINS_PER_S} logins/s from other clients`)
    const phases = {}
    // Warm up first (JIT, caches, the first logins): the quiet phase is the server as it runs.
    await load(url, w, tokens, new Promise((resolve) => setTimeout(() => resolve(''), 3000)))
    phases.quiet = report(
      'quiet, no import',
      await load(
        url,
        w,
        tokens,
        new Promise((resolve) => setTimeout(() => resolve(''), QUIET_SECONDS * 1000)),
      ),
    )
    // The file comes from another client, in a process of its own (curl), as an uploader would: sent from
    // this process, its 54 MB would be read and written by the same event loop that times the other clients.
    const httpImport = async () => {
      const start = performance.now()
      const curl = spawn(
        'curl',
        [
          '-sS',
          '-X',
          'POST',
          '-H',
          'content-type: application/xml',
          '-H',
          `authorization: Bearer ${admin}`,
          '-H',
          'expect:',
          '--data-binary',
          `@${files.first}`,
          '-w',
          '\n%{http_code}',
          `${url}/v1/usage-data?usage_point=up_front`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      )
      let output = ''
      curl.stdout.on('data', (chunk) => {
        output += chunk
      })
      const [code] = await once(curl, 'exit')
      const [json, status] = [
        output.slice(0, output.lastIndexOf('\n')),
        output.slice(output.lastIndexOf('\n') + 1),
      ]
      if (code !== 0 || status !== '200')
        throw new Error(`import answered ${status} (curl exit ${code}): ${json}`)
      const body = JSON.parse(json)
      return `import ${((performance.now() - start) / 1000).toFixed(1)} s: ${body.readings} readings, ${body.changedReadings} new`
    }
    phases.http = report('during the HTTP import', await load(url, w, tokens, httpImport()))
    const cliImport = async () => {
      const start = performance.now()
      const child = spawn(
        process.execPath,
        [
          CLI,
          'import',
          'greenbutton',
          files.revised,
          '--usage-point',
          'up_front',
          '--db',
          target.db,
          '--token',
          admin,
        ],
        { env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let output = ''
      child.stdout.on('data', (chunk) => {
        output += chunk
      })
      child.stderr.on('data', (chunk) => {
        output += chunk
      })
      const [code] = await once(child, 'exit')
      if (code !== 0) throw new Error(`custodian import exited with ${code}: ${output}`)
      return `import ${((performance.now() - start) / 1000).toFixed(1)} s: ${output.trim().split('\n').at(-1)}`
    }
    phases.cli = report('during the CLI import (another process)', await load(url, w, tokens, cliImport()))
    const worst = Math.max(...[phases.http, phases.cli].flatMap((p) => Object.values(p.p99)))
    const failed = phases.http.failed + phases.cli.failed
    console.log(
      `  worst p99 during imports ${worst.toFixed(1)} ms; quiet p99 check ${phases.quiet.p99.check.toFixed(1)} ms, ` +
        `login ${phases.quiet.p99.login.toFixed(1)} ms; ratio worst / quiet check p99 ${(worst / phases.quiet.p99.check).toFixed(2)}`,
    )
    console.log(
      `  target (p99 < 100 ms, no failed request): ${worst < 100 && failed === 0 ? 'MET' : 'NOT MET'}`,
    )
  } finally {
    await server?.stop()
    await target.drop()
  }
}

const dir = mkdtempSync(join(tmpdir(), 'custodian-import-latency-'))
try {
  const days = YEARS * 365
  const files = { first: join(dir, 'ten-years.xml'), revised: join(dir, 'ten-years-revised.xml') }
  writeFileSync(files.first, greenButtonFile(fifteenMinuteReadings(days)))
  writeFileSync(files.revised, greenButtonFile(fifteenMinuteReadings(days, 1)))
  console.log(`node ${process.version}; ${YEARS} years of 15-minute readings (${days * 96} readings) a file`)
  const w = world(0x14)
  for (const backend of BACKENDS) await benchBackend(backend, dir, w, files)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
