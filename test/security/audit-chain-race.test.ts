import { describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { storeBackends } from '../support/temp-store.js'

/**
 * Nodes append their decisions' records without the write path, each chaining from the head it last wrote
 * (on PostgreSQL in one call that checks that head under the lock). Two nodes racing must neither fork the
 * chain nor lose a record: an append chained from a stale head is chained again, never written, and never
 * fails the answers waiting for it.
 */
describe.each(storeBackends)('two nodes appending decisions at once, on $name', ({ make }) => {
  it('answers every check and keeps one unbroken chain holding every decision', async () => {
    const temp = await make()
    const open = () => Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    const first = await open()
    const second = await open()
    try {
      await first.createUser(undefined, { id: 'ann', name: 'Ann' })
      await first.addUserCredential(undefined, 'ann', 'password', 'ann secret')
      await second.catchUp()
      const tokens = [
        (await first.login('ann', 'ann secret')).token,
        (await second.login('ann', 'ann secret')).token,
      ]
      const before = (await first.verifyAudit()).count
      const nodes = [first, second]
      const rounds = 40
      await Promise.all(
        Array.from({ length: rounds }, async (_, i) => {
          const node = nodes[i % 2] as Custodian
          const check = node.checkAccess(tokens[i % 2] as string, 'open_door', `door${i}`)
          expect(check.allowed).toBe(false)
          await node.flush()
        }),
      )
      const verified = await second.verifyAudit()
      expect(verified.problems).toEqual([])
      expect(verified.count - before).toBe(rounds)
    } finally {
      await first.close()
      await second.close()
      await temp.remove()
    }
  })
})
