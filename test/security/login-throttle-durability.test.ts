import { describe, expect, it } from 'vitest'
import { isCustodianError } from '../../src/errors.js'
import { custodianOn, storeBackends } from '../support/temp-store.js'

/**
 * A login attempt is counted in a commit that waits for the disk, before the password is checked: a power
 * failure must not hand an attacker back the attempts it made. Only the reset after a success may be lost
 * (the attempt then stays counted, which errs on the safe side), so only it commits without waiting.
 */
describe.each(storeBackends)('login throttle commits on $name', ({ make }) => {
  it('count every attempt durably, and let only the reset after a success be lost', async () => {
    const { custodian, close } = await custodianOn(make)
    try {
      await custodian.createUser(undefined, { id: 'ann', name: 'Ann' })
      await custodian.addUserCredential(undefined, 'ann', 'password', 'ann right')
      const throttle = custodian.store.throttle
      const update = throttle.update.bind(throttle)
      const commits: string[] = []
      throttle.update = (keys, decide, options) => {
        commits.push(options?.lossable ? 'lossable' : 'durable')
        return update(keys, decide, options)
      }
      const failed = await custodian.login('ann', 'wrong', { address: '192.0.2.7' }).then(
        () => 'ok',
        (error) => (isCustodianError(error) ? error.code : Promise.reject(error)),
      )
      expect(failed).toBe('Authentication')
      expect(commits).toEqual(['durable'])
      await custodian.login('ann', 'ann right', { address: '192.0.2.7' })
      expect(commits).toEqual(['durable', 'durable', 'lossable'])
    } finally {
      await close()
    }
  })
})
