// Admin writes at 10k and at 1M users (issue 13, "writes in constant time"). Run after a build:
//   npm run build && node --expose-gc --max-old-space-size=8192 bench/admin-writes.bench.js
// CUSTODIAN_DIST=/path/to/dist times another build (the code before the change, say); SIZES=10000,1000000 and
// REPS=200 choose the sizes and the timed writes per size.
//
// What is timed is the pure part, in process: the planner (changes.ts) against the in-memory EntitlementIndex,
// `apply` of its changes, and the `isBootstrap()` the next request's authorization asks. The store's write
// (one transaction) is the same whatever the number of users, so it is left out.
//
// Store: N users, each with a password and 10 grants (4 roles of 20, 3 permissions of 30, 3 resource roles of
// 100); roles hold 3 permissions and some nest another role; 10 administrators hold `admin` through the role
// `admins`. Built by apply() of synthetic changes, in chunks.

import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

const DIST = path.resolve(process.env.CUSTODIAN_DIST ?? new URL('../dist', import.meta.url).pathname)
const { EntitlementIndex } = await import(
  pathToFileURL(path.join(DIST, 'entitlements/entitlement-index.js')).href
)
const { createUser, deleteUser, grantEntitlement } = await import(
  pathToFileURL(path.join(DIST, 'entitlements/changes.js')).href
)

const SIZES = (process.env.SIZES ?? '10000,1000000').split(',').map(Number)
const REPS = Number(process.env.REPS ?? 200)
const ROLES = 20
const PERMISSIONS = 30
const RESOURCE_ROLES = 100
const ADMINS = 10
const NOW = '2026-12-01T00:00:00.000Z'

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc')
  process.exit(2)
}

function build(n) {
  const index = new EntitlementIndex()
  let revision = 0
  let chunk = []
  const push = (change) => {
    chunk.push({ ...change, revision: ++revision, at: NOW })
    if (chunk.length >= 100_000) flush()
  }
  const flush = () => {
    index.apply(chunk)
    chunk = []
  }
  push({ tbl: 'permissions', op: 'put', row: { id: 'admin', name: 'admin', description: '', builtin: 1 } })
  for (let p = 0; p < PERMISSIONS; p++)
    push({ tbl: 'permissions', op: 'put', row: { id: `p${p}`, name: `p${p}`, description: '', builtin: 0 } })
  push({ tbl: 'roles', op: 'put', row: { id: 'admins', name: 'admins', description: '' } })
  push({
    tbl: 'role_entitlements',
    op: 'put',
    row: { role_id: 'admins', entitlement_kind: 'permission', entitlement_id: 'admin' },
  })
  for (let r = 0; r < ROLES; r++) {
    push({ tbl: 'roles', op: 'put', row: { id: `r${r}`, name: `r${r}`, description: '' } })
    for (let k = 0; k < 3; k++) {
      const row = {
        role_id: `r${r}`,
        entitlement_kind: 'permission',
        entitlement_id: `p${(r * 3 + k) % PERMISSIONS}`,
      }
      push({ tbl: 'role_entitlements', op: 'put', row })
    }
    if (r % 4 === 1) {
      const row = { role_id: `r${r}`, entitlement_kind: 'role', entitlement_id: `r${r - 1}` }
      push({ tbl: 'role_entitlements', op: 'put', row })
    }
  }
  for (let i = 0; i < RESOURCE_ROLES; i++) {
    push({ tbl: 'resources', op: 'put', row: { id: `res${i}`, description: '', parent_id: null } })
    push({
      tbl: 'resource_roles',
      op: 'put',
      row: { id: `rr${i}`, role_id: `r${i % ROLES}`, resource_id: `res${i}` },
    })
  }
  const grant = (u, kind, target) =>
    push({ tbl: 'user_grants', op: 'put', row: { user_id: u, grant_kind: kind, target_id: target } })
  for (let i = 0; i < n; i++) {
    const u = `user${i}`
    push({ tbl: 'users', op: 'put', row: { id: u, name: u } })
    push({ tbl: 'credentials', op: 'put', row: { user_id: u, kind: 'password', secret_hash: `h${i}` } })
    for (let k = 0; k < 4; k++) grant(u, 'role', `r${(i + k * 5) % ROLES}`)
    for (let k = 0; k < 3; k++) grant(u, 'permission', `p${(i + k * 7) % PERMISSIONS}`)
    for (let k = 0; k < 3; k++) grant(u, 'resource_role', `rr${(i + k * 31) % RESOURCE_ROLES}`)
  }
  for (let i = 0; i < ADMINS; i++) grant(`user${i}`, 'role', 'admins')
  flush()
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
  for (let i = 0; i < 1000; i++) index.effective(`user${ADMINS + i}`) // warm some cache entries
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
  const writeProbe = probe(write) + probe(() => index.isBootstrap())
  const removeProbe = probe(remove) + probe(() => index.isBootstrap())
  const reps = (estimate) => Math.max(3, Math.min(REPS, Math.floor(20_000 / Math.max(estimate, 1e-3))))
  const writeReps = reps(writeProbe)
  const removeReps = reps(removeProbe)
  const writeMs = time(index, writeReps, write)
  const removeMs = time(index, removeReps, remove)
  results.push({ n, writeMs, removeMs })
  console.log(
    `${String(n).padStart(9)} users: built in ${(built / 1000).toFixed(1)} s, heap ${heap.toFixed(0)} MB; ` +
      `admin write (create user + grant role) ${writeMs.toFixed(3)} ms (${writeReps} reps); ` +
      `delete_user ${removeMs.toFixed(3)} ms (${removeReps} reps)`,
  )
}
if (results.length >= 2) {
  const first = results[0]
  const last = results[results.length - 1]
  const writeRatio = last.writeMs / first.writeMs
  const removeRatio = last.removeMs / first.removeMs
  console.log(
    `ratio ${last.n}/${first.n}: admin write ${writeRatio.toFixed(2)}x, delete_user ${removeRatio.toFixed(2)}x`,
  )
  const met = writeRatio <= 2 && removeRatio <= 2
  console.log(`target (within 2x): ${met ? 'met' : 'NOT MET'}`)
}
