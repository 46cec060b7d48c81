// POST /v1/check at wire speed (issue 13): `custodian serve` as a child process, on SQLite (a temporary
// folder) and on PostgreSQL (a temporary database), loaded by wrk (a separate process, one thread, 50
// connections) with a seeded mix of questions, each from its user's own token. Every answer waits for its
// decision's audit record to commit (group commit: one transaction for the requests in flight). Run after a
// build: `npm run build --silent && node bench/check-http.bench.js` (needs `wrk`: apt-get install -y wrk).
//
// Baseline (a ratio against something measured in the same run, since absolute figures drift on shared
// machines): a bare Fastify server, also a child process, answering the same POSTs (same tokens, bodies and
// status codes: 200 allowed, 403 denied) from a Map of tokens and a Map of what each user holds, without
// validation, token hashing or audit. Rounds alternate between the servers; the best round of each is kept.
//
// Workload: USERS users (default 1,000; USERS=1000000 for a store of a million), 10 a house of 3 rooms, 40%
// adults, each with a resource role on their house, provisioned by `custodian import entitlements`; 20,000
// request bodies drawn from a seeded PRNG (a user's own house 70% of the time), each asked with a token of its
// user (the users who ask get one: at a million, about 20,000 of them).
// Settings: BACKENDS (default "sqlite,postgres"), PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// CONNECTIONS (50), SECONDS (8 a round), ROUNDS (3), PROFILE_DIR (a CPU profile of each Custodian server).
// Also printed: the Custodian server's event loop delay during its best round (from its /metrics).

import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  ASKED,
  holdings,
  issueTokens,
  postgresDatabase,
  startChild,
  USERS_PER_HOUSE,
  world,
  writeWorldImport,
} from './check-world.js'
import { prng } from './prng.js'

const SEED = 0x13a11
const BODIES = 20_000
const BACKENDS = (process.env.BACKENDS ?? 'sqlite,postgres').split(',')
const PG_URL = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50)
const SECONDS = Number(process.env.SECONDS ?? 8)
const ROUNDS = Number(process.env.ROUNDS ?? 3)
const HOUSES = Math.ceil(Number(process.env.USERS ?? 1_000) / USERS_PER_HOUSE)

// ---- the requests (seeded: the same in the parent and the baseline child) ----------------------------------

/** `count` requests: a user and the body of its question. */
function requests({ houses, users }, count) {
  const random = prng(SEED ^ 0x5a5a)
  const pick = (list) => list[Math.floor(random() * list.length)]
  const all = []
  for (let i = 0; i < count; i++) {
    const user = users[Math.floor(random() * users.length)]
    const house = random() < 0.7 ? user.house : pick(houses)
    const body = JSON.stringify({ permission: pick(ASKED), resource: pick([house.id, ...house.rooms]) })
    all.push({ user, body })
  }
  return all
}

/** The users who ask, each once, in the order they first do. */
const askersOf = (all) => [...new Set(all.map((r) => r.user))]

// ---- the baseline server: bare Fastify answering from Maps ------------------------------------------------

async function baselineServer(tokensFile) {
  const { readFileSync } = await import('node:fs')
  const { default: Fastify } = await import('fastify')
  const askers = askersOf(requests(world(SEED, HOUSES), BODIES))
  const held = holdings({ users: askers })
  const tokens = JSON.parse(readFileSync(tokensFile, 'utf8'))
  const userOf = new Map(tokens.map((token, i) => [token, askers[i].id]))
  const app = Fastify()
  app.post('/v1/check', async (request, reply) => {
    const user = userOf.get(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1])
    const { permission, resource } = request.body
    if (!user) return reply.code(401).send({ title: 'InvalidAccessToken' })
    if (held.get(user)?.has(`${permission} ${resource}`))
      return { allowed: true, user, reason: `${user} holds ${permission} on ${resource}`, revision: 1 }
    return reply
      .code(403)
      .send({ title: 'AccessDenied', detail: `${user} does not hold ${permission} on ${resource}` })
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  process.stdout.write(`serving at ${url}\n`)
}

// ---- the benchmark ---------------------------------------------------------------------------------------

/** Provisions the store: the world by `custodian import entitlements`, then a token for each user who asks. */
async function provision(db, worldFile, askers) {
  const cli = fileURLToPath(new URL('../bin/custodian.js', import.meta.url))
  await run(process.execPath, [cli, 'import', 'entitlements', worldFile, '--db', db], {
    maxBuffer: 16 * 1024 * 1024,
  })
  const { Custodian } = await import('../dist/custodian.js')
  const custodian = await Custodian.open({ db, follow: false, config: { logLevel: 'silent' } })
  try {
    return await issueTokens(custodian, askers)
  } finally {
    await custodian.close()
  }
}

/** The wrk script: cycles through the requests (token and body a line), one connection's worth each call. */
function wrkScript(file) {
  return `
local requests = {}
-- Built in init: wrk knows the Host header only by then.
init = function(args)
  for line in io.lines("${file}") do
    local tab = line:find("\\t")
    requests[#requests + 1] = wrk.format("POST", "/v1/check", {
      ["Host"] = wrk.headers["Host"],
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. line:sub(1, tab - 1),
    }, line:sub(tab + 1))
  end
end
local i = 0
request = function()
  i = i % #requests + 1
  return requests[i]
end
`
}

const run = promisify(execFile)
const MS = { us: 0.001, ms: 1, s: 1000 }

/** One wrk round against `url`: req/s, p50 and p99 (ms), how many answers were not 2xx and any errors. */
async function wrk(url, script, seconds) {
  const { stdout } = await run('wrk', [
    '-t1',
    `-c${CONNECTIONS}`,
    `-d${seconds}s`,
    '--latency',
    '-s',
    script,
    url,
  ])
  const number = (re) => Number(re.exec(stdout)?.[1] ?? Number.NaN)
  const latency = (q) => {
    const m = new RegExp(`\\s${q}%\\s+([\\d.]+)(us|ms|s)\\b`).exec(stdout)
    return m ? Number(m[1]) * MS[m[2]] : Number.NaN
  }
  const errors = /Socket errors:.*|Non-2xx or 3xx responses: \d+/g
  return {
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    requests: number(/(\d+) requests in/),
    p50: latency(50),
    p99: latency(99),
    notes: (stdout.match(errors) ?? []).join('; '),
  }
}

async function post(url, token, body) {
  const response = await fetch(`${url}/v1/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body,
  })
  return { status: response.status, body: await response.json() }
}

/** The server's event loop delay (p99, max, in ms) since the last call: prom-client resets it on each scrape. */
async function eventLoopDelay(url, token) {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text()
  const seconds = (name) =>
    Number(new RegExp(`^custodian_nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text)?.[1])
  return { p99: seconds('p99') * 1000, max: seconds('max') * 1000 }
}

async function auditHead(db) {
  const { openStore } = await import('../dist/store/store.js')
  const store = await openStore(db)
  try {
    return (await store.auditHead()).seq
  } finally {
    await store.close()
  }
}

async function benchBackend(backend, dir, worldFile, all) {
  const target =
    backend === 'postgres'
      ? await postgresDatabase(PG_URL, `custodian_bench_${process.pid}`)
      : { db: join(dir, `custodian-${backend}.db`), drop: async () => {} }
  const servers = []
  try {
    const askers = askersOf(all)
    const held = holdings({ users: askers })
    const tokens = await provision(target.db, worldFile, askers)
    const tokenOf = new Map(askers.map((user, i) => [user, tokens[i]]))
    const requestsFile = join(dir, `requests-${backend}.tsv`)
    writeFileSync(requestsFile, `${all.map((r) => `${tokenOf.get(r.user)}\t${r.body}`).join('\n')}\n`)
    const tokensFile = join(dir, `tokens-${backend}.json`)
    writeFileSync(tokensFile, JSON.stringify(tokens))
    const script = join(dir, `check-${backend}.lua`)
    writeFileSync(script, wrkScript(requestsFile))

    const profile = process.env.PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROFILE_DIR] : []
    const cli = fileURLToPath(new URL('../bin/custodian.js', import.meta.url))
    const metricsToken = randomBytes(16).toString('hex')
    const custodian = startChild([...profile, cli, 'serve', '--port', '0', '--db', target.db], {
      CUSTODIAN_METRICS_TOKEN: metricsToken,
    })
    servers.push(custodian)
    const baseline = startChild([fileURLToPath(import.meta.url), '--baseline-server', tokensFile])
    servers.push(baseline)
    const [custodianUrl, baselineUrl] = await Promise.all([custodian.url, baseline.url])

    // Both servers must give the same decisions, with the same status codes.
    let allowed = 0
    for (const r of all.slice(0, 200)) {
      const { permission, resource } = JSON.parse(r.body)
      const expected = held.get(r.user.id).has(`${permission} ${resource}`)
      const token = tokenOf.get(r.user)
      const [ours, theirs] = await Promise.all([
        post(custodianUrl, token, r.body),
        post(baselineUrl, token, r.body),
      ])
      if (ours.status !== (expected ? 200 : 403) || theirs.status !== ours.status)
        throw new Error(`disagreement on ${r.user.id} ${r.body}: ${ours.status} ${JSON.stringify(ours.body)}`)
      if (expected) allowed++
    }
    await wrk(custodianUrl, script, 2) // warm-up
    await wrk(baselineUrl, script, 2)
    const before = await auditHead(target.db)
    const best = { custodian: undefined, baseline: undefined }
    let answered = 0
    for (let round = 0; round < ROUNDS; round++) {
      await eventLoopDelay(custodianUrl, metricsToken) // from here
      const ours = await wrk(custodianUrl, script, SECONDS)
      ours.loop = await eventLoopDelay(custodianUrl, metricsToken)
      answered += ours.requests
      if (!best.custodian || ours.rps > best.custodian.rps) best.custodian = ours
      const theirs = await wrk(baselineUrl, script, SECONDS)
      if (!best.baseline || theirs.rps > best.baseline.rps) best.baseline = theirs
      // Every round, not only the best: the spread is the point where the targets sit on the line.
      console.log(
        `  round ${round + 1}: Custodian ${Math.round(ours.rps).toLocaleString('en')} req/s, p99 ${ours.p99.toFixed(2)} ms (event loop max ${ours.loop.max.toFixed(1)} ms); bare ${Math.round(theirs.rps).toLocaleString('en')} req/s, p99 ${theirs.p99.toFixed(2)} ms; ratio ${(ours.rps / theirs.rps).toFixed(2)}`,
      )
    }
    const audited = (await auditHead(target.db)) - before

    const row = (name, r) =>
      console.log(
        `  ${name.padEnd(30)} ${Math.round(r.rps).toLocaleString('en').padStart(8)} req/s   p50 ${r.p50.toFixed(2).padStart(6)} ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   ${r.notes}`,
      )
    console.log(
      `${backend}, ${(HOUSES * USERS_PER_HOUSE).toLocaleString('en')} users (${askers.length.toLocaleString('en')} asking): POST /v1/check, ${CONNECTIONS} connections, best of ${ROUNDS} rounds of ${SECONDS} s (${allowed} of the first 200 allowed: the rest are 403)`,
    )
    row(`Custodian (${backend}, audited)`, best.custodian)
    console.log(
      `  ${''.padEnd(30)} its event loop's delay in that round: p99 ${best.custodian.loop.p99.toFixed(1)} ms, max ${best.custodian.loop.max.toFixed(1)} ms`,
    )
    row('bare Fastify from a Map', best.baseline)
    const ratio = best.custodian.rps / best.baseline.rps
    console.log(`  ratio: Custodian / bare Fastify = ${ratio.toFixed(2)} (req/s)`)
    console.log(
      `  audit records committed during the timed rounds: ${audited.toLocaleString('en')} for ${answered.toLocaleString('en')} answers wrk counted${audited >= answered ? '' : '  <-- FEWER THAN ANSWERS'}`,
    )
    const met = ratio >= 0.5 && best.custodian.p99 < 10 && audited >= answered
    console.log(
      `  target (>= 0.5 of bare Fastify, p99 < 10 ms, every answer audited): ${met ? 'MET' : 'NOT MET'}\n`,
    )
  } finally {
    for (const server of servers) await server.stop()
    await target.drop()
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-check-http-'))
  try {
    const w = world(SEED, HOUSES)
    const worldFile = join(dir, 'world.jsonl')
    await writeWorldImport(w, worldFile)
    const all = requests(w, BODIES)
    for (const backend of BACKENDS) await benchBackend(backend, dir, worldFile, all)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--baseline-server') {
  await baselineServer(process.argv[3])
} else {
  await main()
}
