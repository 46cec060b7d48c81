// Admin writes at 10k and at 1M users (issue 13, "writes in constant time"). Run after a build:
//   npm run build && node --expose-gc --max-old-space-size=8192 bench/admin-writes.bench.js
// CUSTODIAN_DIST=/path/to/dist times another build (the code before the change, say); SIZES=10000,1000000 and
// REPS=200 choose the sizes and the timed writes per size.
//
// What is timed is the pure part, in process: the planner (changes.ts) against the in-memory EntitlementIndex,
// `apply` of its changes, and the `isBootstrap()` the next request's authorization asks. The store's write
// (one transaction) is the same whatever the number of users, so it is left out. Three writes: a user created
// and granted a role; delete_user; a permission added to a role held by a fifth of the users, or taken from
// it (in turn). Before they are timed, every user's entitlements are asked for once, as a serving node's are
// after a while.
//
// Store: N users of bench/entitlement-workload.js, loaded as a node loads its snapshot.

import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { definitions, grantsOf, PERMISSIONS, ROLES } from './entitlement-workload.js'

const DIST = path.resolve(process.env.CUSTODIAN_DIST ?? new URL('../dist', import.meta.url).pathname)
const { EntitlementIndex } = await import(
  pathToFileURL(path.join(DIST, 'entitlements/entitlement-index.js')).href
)
const { addEntitlementToRole, createUser, deleteUser, grantEntitlement, removeEntitlementFromRole } =
  await import(pathToFileURL(path.join(DIST, 'entitlements/changes.js')).href)

const SIZES = (process.env.SIZES ?? '10000,1000000').split(',').map(Number)
const REPS = Number(process.env.REPS ?? 200)
const NOW = '2026-12-01T00:00:00.000Z'

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc')
  process.exit(2)
}

/** The rows of N users, table by table (users before the tables naming them, as a snapshot reads them). */
function* rowsOf(n) {
  yield* definitions()
  for (let i = 0; i < n; i++) yield ['users', { id: `user${i}`, name: `user${i}` }]
  for (let i = 0; i < n; i++)
    yield ['credentials', { user_id: `user${i}`, kind: 'password', secret_hash: `h${i}` }]
  for (let i = 0; i < n; i++)
    for (const [kind, target] of grantsOf(i))
      yield ['user_grants', { user_id: `user${i}`, grant_kind: kind, target_id: target }]
}

/** The index as a node builds it from a snapshot; by apply() of synthetic changes for a build without loader(). */
function build(n) {
  if (EntitlementIndex.loader) {
    const loader = EntitlementIndex.loader()
    const sinks = new Map()
    for (const [tbl, row] of rowsOf(n)) {
      if (!sinks.has(tbl)) sinks.set(tbl, loader.rows(tbl))
      sinks.get(tbl)(row)
    }
    return loader.finish(1)
  }
  const index = new EntitlementIndex()
  let chunk = []
  for (const [tbl, row] of rowsOf(n)) {
    chunk.push({ tbl, op: 'put', row, revision: index.revision + chunk.length + 1, at: NOW })
    if (chunk.length >= 100_000) {
      index.apply(chunk)
      chunk = []
    }
  }
  index.apply(chunk)
  return index
}

/** Commits a plan the way the kernel does after the store write: apply at the next revisions. */
function commit(index, plan) {
  const base = index.revision
  index.apply(plan.changes.map((change, i) => ({ ...change, revision: base + i + 1, at: NOW })))
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function time(index, reps, op) {
  const times = []
  for (let i = 0; i < reps; i++) {
    const start = performance.now()
    op(i)
    if (index.isBootstrap()) throw new Error('the store fell back to bootstrap')
    times.push(performance.now() - start)
  }
  return median(times)
}

console.log(`dist: ${DIST}`)
console.log(
  `node ${process.version}; sizes ${SIZES.join(', ')}; median of ${REPS} writes each (fewer where noted)`,
)
const results = []
for (const n of SIZES) {
  globalThis.gc()
  const t0 = performance.now()
  const index = build(n)
  index.isBootstrap()
  for (let i = 0; i < n; i++) index.effective(`user${i}`)
  const built = performance.now() - t0
  globalThis.gc()
  const heap = process.memoryUsage().heapUsed / 2 ** 20
  // Slow builds get fewer repetitions so one run stays within minutes: at most ~20 s per operation.
  const probe = (op) => {
    const start = performance.now()
    op()
    return performance.now() - start
  }
  let created = 0
  const write = () => {
    const id = `new${created++}`
    commit(index, createUser(index, { id, name: id }))
    commit(index, grantEntitlement(index, id, `r${created % ROLES}`))
  }
  let victim = n - 1
  const remove = () => commit(index, deleteUser(index, `user${victim--}`, NOW))
  let turn = 0
  const roleWrite = () =>
    commit(
      index,
      turn++ % 2 === 0
        ? addEntitlementToRole(index, 'r3', `p${PERMISSIONS - 1}`)
        : removeEntitlementFromRole(index, 'r3', `p${PERMISSIONS - 1}`),
    )
  const writeProbe = probe(write) + probe(() => index.isBootstrap())
  const removeProbe = probe(remove) + probe(() => index.isBootstrap())
  const reps = (estimate) => Math.max(3, Math.min(REPS, Math.floor(20_000 / Math.max(estimate, 1e-3))))
  const writeReps = reps(writeProbe)
  const removeReps = reps(removeProbe)
  const roleProbe = probe(roleWrite) + probe(roleWrite)
  const roleReps = reps(roleProbe / 2) & ~1 || 2
  const writeMs = time(index, writeReps, write)
  const removeMs = time(index, removeReps, remove)
  const roleMs = time(index, roleReps, roleWrite)
  results.push({ n, writeMs, removeMs, roleMs })
  console.log(
    `${String(n).padStart(9)} users: built in ${(built / 1000).toFixed(1)} s, heap ${heap.toFixed(0)} MB; ` +
      `admin write (create user + grant role) ${writeMs.toFixed(3)} ms (${writeReps} reps); ` +
      `delete_user ${removeMs.toFixed(3)} ms (${removeReps} reps); ` +
      `role write ${roleMs.toFixed(3)} ms (${roleReps} reps)`,
  )
}
if (results.length >= 2) {
  const first = results[0]
  const last = results[results.length - 1]
  const writeRatio = last.writeMs / first.writeMs
  const removeRatio = last.removeMs / first.removeMs
  const roleRatio = last.roleMs / first.roleMs
  console.log(
    `ratio ${last.n}/${first.n}: admin write ${writeRatio.toFixed(2)}x, delete_user ${removeRatio.toFixed(2)}x, role write ${roleRatio.toFixed(2)}x`,
  )
  const met = writeRatio <= 2 && removeRatio <= 2 && roleRatio <= 2
  console.log(`target (within 2x): ${met ? 'met' : 'NOT MET'}`)
}
