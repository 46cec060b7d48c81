import * as cedar from '@cedar-policy/cedar-wasm/nodejs'
const gcOn = process.argv[2] === 'gc'
cedar.preparsePolicySet('x', { staticPolicies: 'permit(principal in Role::"a", action in [Action::"d"], resource) when { resource in principal.house };' })
const users = Array.from({ length: 2000 }, (_, i) => ({ uid: { type: 'User', id: `u${i}` }, attrs: { house: { __entity: { type: 'House', id: `h${i % 200}` } } }, parents: [{ type: 'Role', id: 'a' }] }))
const houses = Array.from({ length: 200 }, (_, i) => ({ uid: { type: 'House', id: `h${i}` }, attrs: {}, parents: [] }))
const act = { type: 'Action', id: 'd' }
for (let round = 0; round < 10; round++) {
  if (gcOn) globalThis.gc(); if (process.argv[2] === 'idle') await new Promise((r) => setImmediate(() => { globalThis.gc(); r() }))
  let n = 0
  const t = performance.now()
  for (let i = 0; i < 20000; i++) {
    const u = users[(i * 7) % 2000], h = houses[(i * 13) % 200]
    const a = cedar.statefulIsAuthorized({ principal: u.uid, action: act, resource: h.uid, context: {}, preparsedPolicySetId: 'x', entities: [u, h] })
    if (a.response.decision === 'allow') n++
  }
  console.log(round, n, (performance.now() - t).toFixed(0))
}
