// Batch check throughput (issue 13): POST /v1/checks with 100 questions a request against the real server
// (`custodian serve` as a child process, SQLite store in a temporary folder), a bounded number of requests
// in flight. Run after a build: `npm run build --silent && node bench/batch-check.bench.js`.
//
// Baseline (house rule: a ratio against something measured in the same run, since absolute figures drift on
// shared machines): a bare Fastify server, also a child process, answering the same POST bodies with the same
// JSON shape from a Map of what each user holds, without tokens, validation or audit.
//
// Workload: USERS users (default 1,000; USERS=1000000 for a store of a million), 10 a house of 3 rooms, 40%
// adults, each with a resource role on their house, provisioned by `custodian import entitlements`; REQUESTS
// requests of 100 questions {permission, resource, user} drawn from a seeded PRNG: a user's own house 70% of
// the time. The administrator's token asks (naming `user` needs the admin permission). Every decision is
// audited and committed before its answer, one commit a request.
// Settings: USERS, REQUESTS (default 2,000), CONCURRENCY (default 32), QUESTIONS (default 100), PROFILE_DIR.

import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  ASKED,
  holdings,
  ROOMS,
  startChild,
  USERS_PER_HOUSE,
  world,
  writeWorldImport,
} from './check-world.js'
import { prng } from './prng.js'

const SEED = 0x13c0ffee
const REQUESTS = Number(process.env.REQUESTS ?? 2_000)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32)
const QUESTIONS = Number(process.env.QUESTIONS ?? 100)
const WARMUP = 200
const ROUNDS = 2 // each server runs this many timed rounds, interleaved; the best is reported
const HOUSES = Math.ceil(Number(process.env.USERS ?? 1_000) / USERS_PER_HOUSE)
const CLI = fileURLToPath(new URL('../bin/custodian.js', import.meta.url))

// ---- the baseline server: bare Fastify answering from a Map ----------------------------------------------

async function baselineServer() {
  const { default: Fastify } = await import('fastify')
  const held = holdings({ users: bodies(world(SEED, HOUSES)).askers })
  const app = Fastify()
  app.post('/v1/checks', async (request) => {
    const answers = request.body.questions.map(({ permission, resource, user }) => {
      const allowed = held.get(user)?.has(`${permission} ${resource}`) === true
      return {
        allowed,
        user,
        reason: allowed
          ? `${user} holds ${permission} on ${resource}`
          : `${user} does not hold ${permission} on ${resource}`,
        revision: 1,
      }
    })
    return { answers, revision: 1 }
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  process.stdout.write(`serving at ${url}\n`)
}

if (process.argv[2] === '--baseline-server') {
  await baselineServer()
} else {
  await main()
}

// ---- the benchmark ---------------------------------------------------------------------------------------

/** Provisions the store by `custodian import entitlements` (bootstrap mode): the world, the administrator last. */
async function provision(db, w, dir) {
  const file = join(dir, 'world.jsonl')
  await writeWorldImport(w, file, [
    { type: 'user', id: 'root', name: 'Root' },
    { type: 'credential', user: 'root', password: 'root secret' },
    { type: 'grant', user: 'root', permission: 'admin' },
  ])
  const started = performance.now()
  const { stdout } = await promisify(execFile)(process.execPath, [
    CLI,
    'import',
    'entitlements',
    file,
    '--db',
    db,
  ])
  return { said: stdout.trim(), ms: performance.now() - started }
}

/** The request bodies, and the users they ask about (each once). */
function bodies({ houses, users }) {
  const random = prng(SEED ^ 0x5a5a)
  const pick = (list) => list[Math.floor(random() * list.length)]
  const all = []
  const askers = new Set()
  for (let i = 0; i < REQUESTS + WARMUP; i++) {
    const questions = []
    for (let q = 0; q < QUESTIONS; q++) {
      const user = pick(users)
      askers.add(user)
      const house = random() < 0.7 ? user.house : pick(houses)
      questions.push({ permission: pick(ASKED), resource: pick([house.id, ...house.rooms]), user: user.id })
    }
    all.push(JSON.stringify({ questions }))
  }
  return { all, askers: [...askers] }
}

async function post(url, token, body) {
  const response = await fetch(`${url}/v1/checks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  })
  const text = await response.text()
  if (response.status !== 200) throw new Error(`POST /v1/checks answered ${response.status}: ${text}`)
  return JSON.parse(text)
}

/** `count` requests from `from`, at most CONCURRENCY in flight; the latency of each. */
async function load(url, token, all, from, count) {
  const latencies = new Float64Array(count)
  let next = 0
  const started = performance.now()
  const worker = async () => {
    while (next < count) {
      const i = next++
      const t0 = performance.now()
      await post(url, token, all[from + i])
      latencies[i] = performance.now() - t0
    }
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker))
  const seconds = (performance.now() - started) / 1000
  latencies.sort()
  const at = (q) => latencies[Math.min(count - 1, Math.floor(q * count))]
  return { seconds, rps: count / seconds, dps: (count * QUESTIONS) / seconds, p50: at(0.5), p99: at(0.99) }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-bench-'))
  const db = join(dir, 'custodian.db')
  const servers = []
  try {
    const w = world(SEED, HOUSES)
    const { all, askers } = bodies(w)
    const held = holdings({ users: askers })
    const setup = await provision(db, w, dir)
    console.log(
      `provisioned ${w.users.length.toLocaleString('en')} users, ${(HOUSES * (ROOMS + 1)).toLocaleString('en')} resources in ${(setup.ms / 1000).toFixed(1)} s: ${setup.said}`,
    )

    // PROFILE_DIR=<dir> writes a CPU profile of the Custodian server there when it stops.
    const profile = process.env.PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROFILE_DIR] : []
    const custodian = startChild([...profile, CLI, 'serve', '--port', '0', '--db', db])
    servers.push(custodian)
    const baseline = startChild([fileURLToPath(import.meta.url), '--baseline-server'])
    servers.push(baseline)
    const [custodianUrl, baselineUrl] = await Promise.all([custodian.url, baseline.url])

    const login = await fetch(`${custodianUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'root', password: 'root secret' }),
    })
    const { token } = await login.json()

    // Both servers must give the same decisions (the reasons differ: the baseline's are fixed phrases).
    for (let i = 0; i < 20; i++) {
      const body = JSON.parse(all[i])
      const [ours, theirs] = await Promise.all([
        post(custodianUrl, token, all[i]),
        post(baselineUrl, undefined, all[i]),
      ])
      body.questions.forEach((q, k) => {
        const expected = held.get(q.user).has(`${q.permission} ${q.resource}`)
        if (ours.answers[k].allowed !== expected || theirs.answers[k].allowed !== expected)
          throw new Error(`disagreement on ${JSON.stringify(q)}: ${JSON.stringify(ours.answers[k])}`)
      })
    }
    await load(custodianUrl, token, all, 0, WARMUP)
    await load(baselineUrl, undefined, all, 0, WARMUP)

    console.log(
      `POST /v1/checks, ${QUESTIONS} questions a request, ${REQUESTS} requests, ${CONCURRENCY} in flight, best of ${ROUNDS} rounds`,
    )
    const best = { custodian: undefined, baseline: undefined }
    const keep = (name, r) => {
      if (!best[name] || r.dps > best[name].dps) best[name] = r
    }
    for (let round = 0; round < ROUNDS; round++) {
      keep('custodian', await load(custodianUrl, token, all, WARMUP, REQUESTS))
      keep('baseline', await load(baselineUrl, undefined, all, WARMUP, REQUESTS))
    }
    const row = (name, r) =>
      console.log(
        `  ${name.padEnd(26)} ${Math.round(r.dps).toLocaleString('en').padStart(10)} decisions/s ${Math.round(r.rps).toLocaleString('en').padStart(7)} req/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms`,
      )
    row('Custodian (SQLite, audited)', best.custodian)
    row('bare Fastify from a Map', best.baseline)
    console.log(
      `  ratio: Custodian / bare Fastify = ${(best.custodian.dps / best.baseline.dps).toFixed(2)} (decisions/s)`,
    )
  } finally {
    for (const server of servers) await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
