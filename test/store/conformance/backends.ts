import { afterAll, beforeAll } from 'vitest'
import { openStore, type Store } from '../../../src/store/store.js'
import { storeBackends } from '../../support/temp-store.js'

// The conformance suites import the store only through here: one place to follow when its modules move.
export { GENESIS_HASH, verifyAuditChain } from '../../../src/audit/chain.js'
export { StoreAdapter } from '../../../src/oauth/adapter.js'
export { PARKED } from '../../../src/store/outbox.js'
export type { OidcPayloadRow } from '../../../src/store/schema.js'
export type { Store } from '../../../src/store/store.js'
export type { ThrottleEntries, ThrottleEntry } from '../../../src/store/throttle-store.js'
export type { BlockQuery } from '../../../src/store/usage-data-store.js'
export { openStore }

/** Every backend the store runs on: each conformance suite is one body run by `describe.each(backends)`. */
export const backends = storeBackends

export interface StoreFixture {
  /** The first node's store. */
  readonly store: Store
  /** Where the store is (a file path or a postgres:// URL). */
  readonly target: string
  /** Another node on the same database, closed with the fixture. */
  node(): Promise<Store>
}

/** A fresh database of one backend for the enclosing `describe`, opened once and dropped after it. */
export function storeFixture(make: (typeof backends)[number]['make']): StoreFixture {
  let remove: () => Promise<void> = async () => {}
  let target = ''
  let store: Store | undefined
  const nodes: Store[] = []
  beforeAll(async () => {
    ;({ target, remove } = await make())
    store = await openStore(target)
  })
  afterAll(async () => {
    for (const node of nodes) await node.close()
    await store?.close()
    await remove()
  })
  return {
    get store() {
      if (!store) throw new Error('the store is opened in beforeAll: use it inside a test')
      return store
    },
    get target() {
      return target
    },
    async node() {
      const node = await openStore(target)
      nodes.push(node)
      return node
    },
  }
}

/** An audit entry as a write plan gives it. */
export const auditEntry = (action: string, at = '2026-11-23T10:00:00.000Z') => ({
  at,
  actor: 'tester',
  action,
  resource: 'r',
  outcome: 'ok',
  reason: 'because',
})

/** Starts `count` calls at once, alternating between `stores`, and waits for all of them. */
export const race = <T>(
  stores: readonly Store[],
  count: number,
  call: (store: Store, i: number) => Promise<T>,
) => Promise.all(Array.from({ length: count }, (_, i) => call(stores[i % stores.length] as Store, i)))
