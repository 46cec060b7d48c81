// In-process full check throughput (issue 13): `custodian.checkAccess(token, permission, resource)` on a node
// opened on a temporary SQLite store, each check validating the token (and counting it as a use), deciding
// and queueing its audit record; then the flush that commits those records. Run after a build:
// `npm run build --silent && node --expose-gc bench/check-inprocess.bench.js`.
//
// Baseline (a ratio against something measured in the same run, since absolute figures drift on shared
// machines): the bare decision, `decideAccess(index, user, permission, resource)` on the same Index and checks.
//
// Workload: 100 houses with 3 rooms each, 1,000 users (10 a house, 40% adults) with a resource role on their
// house, every user with a token; CHECKS checks drawn from a seeded PRNG (a user's own house 70% of the
// time). Rounds are interleaved (bare decision, full check + flush, batch check + flush), the best round of
// each is reported. The batch check is `custodian.checkAccessBatch(token, questions)`, BATCH questions a call
// naming the same users (an administrator's token, checked once a batch; one audit record a batch).
// Settings: CHECKS (default 300,000), ROUNDS (default 5), BATCH (default 100).

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Custodian } from '../dist/custodian.js'
import { decideAccess } from '../dist/entitlements/rules.js'
import { ASKED, issueTokens, provisioningScript, runProvisioning, world } from './check-world.js'
import { prng } from './prng.js'

const SEED = 0x13c4ec
const CHECKS = Number(process.env.CHECKS ?? 300_000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const BATCH = Number(process.env.BATCH ?? 100)
const TARGET = 1_000_000

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc so rounds start from a collected heap')
  process.exit(2)
}

const w = world(SEED)
const { houses, users } = w
const random = prng(SEED ^ 0x5a5a)
const pick = (list) => list[Math.floor(random() * list.length)]

const dir = mkdtempSync(join(tmpdir(), 'custodian-inprocess-'))
try {
  const custodian = await Custodian.open({
    db: join(dir, 'custodian.db'),
    follow: false,
    config: { logLevel: 'silent' },
  })
  await runProvisioning(custodian, [
    ...provisioningScript(w),
    'create_user root, Root',
    'add_user_credential root, password, root secret',
    'add_role_to_user root, admin',
  ])
  const tokens = await issueTokens(custodian, users)
  const rootToken = (await custodian.login('root', 'root secret')).token

  const checkUser = new Array(CHECKS)
  const checkToken = new Array(CHECKS)
  const checkPermission = new Array(CHECKS)
  const checkResource = new Array(CHECKS)
  for (let i = 0; i < CHECKS; i++) {
    const u = Math.floor(random() * users.length)
    const user = users[u]
    const house = random() < 0.7 ? user.house : pick(houses)
    checkUser[i] = user.id
    checkToken[i] = tokens[u]
    checkPermission[i] = pick(ASKED)
    checkResource[i] = pick([house.id, ...house.rooms])
  }

  const batches = []
  for (let i = 0; i < CHECKS; i += BATCH) {
    const questions = []
    for (let j = i; j < Math.min(i + BATCH, CHECKS); j++)
      questions.push({ permission: checkPermission[j], resource: checkResource[j], user: checkUser[j] })
    batches.push(questions)
  }

  // All must agree on every check before anything is timed.
  const index = custodian.index
  let allowed = 0
  for (let i = 0; i < CHECKS; i++) {
    const bare = decideAccess(index, checkUser[i], checkPermission[i], checkResource[i]).allowed
    const full = custodian.checkAccess(checkToken[i], checkPermission[i], checkResource[i])
    if (full.allowed !== bare || full.userId !== checkUser[i])
      throw new Error(`disagreement on check ${i}: ${JSON.stringify(full)}`)
    if (bare) allowed++
  }
  let batchAllowed = 0
  for (const questions of batches)
    for (const answer of custodian.checkAccessBatch(rootToken, questions)) if (answer.allowed) batchAllowed++
  if (batchAllowed !== allowed) throw new Error('the batch check disagrees with the bare decision')
  await custodian.flush()

  const bareRound = () => {
    let n = 0
    const t0 = performance.now()
    for (let i = 0; i < CHECKS; i++)
      if (decideAccess(index, checkUser[i], checkPermission[i], checkResource[i]).allowed) n++
    const ms = performance.now() - t0
    if (n !== allowed) throw new Error('the bare decision changed its answers')
    return { ms }
  }
  const fullRound = async () => {
    let n = 0
    const t0 = performance.now()
    for (let i = 0; i < CHECKS; i++)
      if (custodian.checkAccess(checkToken[i], checkPermission[i], checkResource[i]).allowed) n++
    const ms = performance.now() - t0
    await custodian.flush()
    const withFlush = performance.now() - t0
    if (n !== allowed) throw new Error('the full check changed its answers')
    return { ms, withFlush }
  }

  const batchRound = async () => {
    let n = 0
    const t0 = performance.now()
    for (const questions of batches)
      for (const answer of custodian.checkAccessBatch(rootToken, questions)) if (answer.allowed) n++
    const ms = performance.now() - t0
    await custodian.flush()
    const withFlush = performance.now() - t0
    if (n !== allowed) throw new Error('the batch check changed its answers')
    return { ms, withFlush }
  }

  const bare = []
  const full = []
  const batched = []
  for (let round = 0; round < ROUNDS; round++) {
    globalThis.gc()
    bare.push(bareRound())
    globalThis.gc()
    full.push(await fullRound())
    globalThis.gc()
    batched.push(await batchRound())
  }
  const rate = (ms) => (CHECKS / ms) * 1000
  const fmt = (n) => Math.round(n).toLocaleString('en').padStart(11)
  const best = (list, key) => Math.min(...list.map((r) => r[key]))
  const worst = (list, key) => Math.max(...list.map((r) => r[key]))
  const bareBest = rate(best(bare, 'ms'))
  const fullBest = rate(best(full, 'ms'))
  const flushedBest = rate(best(full, 'withFlush'))
  const batchBest = rate(best(batched, 'ms'))
  const batchFlushedBest = rate(best(batched, 'withFlush'))

  const audit = await custodian.verifyAudit()
  if (audit.problems.length > 0) throw new Error(`audit chain broken: ${JSON.stringify(audit.problems[0])}`)

  console.log(
    `workload: ${users.length} users with a token each, ${CHECKS.toLocaleString('en')} checks (${allowed.toLocaleString('en')} allowed), seed ${SEED}; ${ROUNDS} rounds, best (worst)`,
  )
  console.log(
    `  bare decideAccess                     ${fmt(bareBest)} checks/s (${fmt(rate(worst(bare, 'ms')))})`,
  )
  console.log(
    `  checkAccess: token, decision, record  ${fmt(fullBest)} checks/s (${fmt(rate(worst(full, 'ms')))})`,
  )
  console.log(
    `  the same, with the flush that commits  ${fmt(flushedBest)} checks/s (${fmt(rate(worst(full, 'withFlush')))})`,
  )
  console.log(
    `${`  checkAccessBatch, ${BATCH} a call`.padEnd(39)}${fmt(batchBest)} checks/s (${fmt(rate(worst(batched, 'ms')))})`,
  )
  console.log(
    `  the same, with the flush that commits  ${fmt(batchFlushedBest)} checks/s (${fmt(rate(worst(batched, 'withFlush')))})`,
  )
  console.log(`  ratio: full check / bare decision = ${(fullBest / bareBest).toFixed(2)}`)
  console.log(`  ratio: batch check, flushed / bare decision = ${(batchFlushedBest / bareBest).toFixed(2)}`)
  console.log(`  audit chain verified: ${audit.count.toLocaleString('en')} records, no problems`)
  console.log(
    `target (full check >= ${TARGET.toLocaleString('en')}/s): ${fullBest >= TARGET ? 'MET' : 'NOT MET'}; with its flush: ${flushedBest >= TARGET ? 'MET' : 'NOT MET'}; batched, with its flush: ${batchFlushedBest >= TARGET ? 'MET' : 'NOT MET'}`,
  )
  await custodian.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
