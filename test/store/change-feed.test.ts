import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { storeBackends } from '../support/temp-store.js'

describe.each(storeBackends)('two nodes on one $name store', ({ make }) => {
  let remove: () => Promise<void>
  let first: Custodian
  let second: Custodian
  let now = Date.now()
  let target: string

  beforeAll(async () => {
    const temp = await make()
    remove = temp.remove
    target = temp.target
    // Tokens from voice prints live minutes by default; these tests follow a token for hours.
    const config = { logLevel: 'silent', changePollMs: 20, voiceTokenLifetimeSeconds: 86_400 }
    first = await Custodian.open({ db: temp.target, config, clock: () => now })
    second = await Custodian.open({ db: temp.target, config, clock: () => now })
  })
  afterAll(async () => {
    await first.close()
    await second.close()
    await remove()
  })

  it('the second sees a change made by the first once it has caught up with the change log', async () => {
    await first.definePermission(undefined, { id: 'control_oven', name: 'Control Oven', description: 'oven' })
    await first.createUser(undefined, { id: 'sam', name: 'Sam' })
    await first.addUserCredential(undefined, 'sam', 'voice_print', '--sam--')
    const grant = await first.grantToUser(undefined, 'sam', 'control_oven')
    await second.atLeast(grant.revision)
    const sam = await second.loginVoicePrint('--sam--')
    expect(second.checkAccess(sam.token, 'control_oven', 'house1')).toMatchObject({
      allowed: true,
      revision: sam.revision,
    })
  })

  it('follows on its own, without being asked', async () => {
    const revoke = await first.revokeFromUser(undefined, 'sam', 'permission', 'control_oven')
    await vi.waitFor(() => expect(second.revision).toBeGreaterThanOrEqual(revoke.revision), {
      timeout: 5_000,
      interval: 10,
    })
    expect(second.index.userPermissions.get('sam')).toBeUndefined()
  })

  it('a token issued by one node is honoured and ended on the other', async () => {
    const sam = await first.loginVoicePrint('--sam--')
    await first.grantToUser(undefined, 'sam', 'control_oven')
    await second.atLeast(first.revision)
    expect(second.checkAccess(sam.token, 'control_oven', 'house1').allowed).toBe(true)
    const out = await second.logout(sam.token)
    await first.atLeast(out.revision)
    expect(first.checkAccess(sam.token, 'control_oven', 'house1').error).toBe('InvalidAccessToken')
  })

  it("writes a token's uses back, so the other node does not see it idle", async () => {
    const sam = await first.loginVoicePrint('--sam--')
    now += 50 * 60_000
    expect(first.checkAccess(sam.token, 'control_oven', 'house1').allowed).toBe(true)
    await first.flush()
    await second.atLeast(first.revision)
    now += 50 * 60_000 // 100 minutes after login, 50 after its last use on the first node
    expect(second.checkAccess(sam.token, 'control_oven', 'house1').allowed).toBe(true)
  })

  it("does not undo a logout made on one node when another writes the token's uses back", async () => {
    // This node does not follow the change log, so it certainly has not heard of the logout when it flushes.
    const stale = await Custodian.open({
      db: target,
      follow: false,
      clock: () => now,
      config: { logLevel: 'silent', voiceTokenLifetimeSeconds: 86_400 },
    })
    const sam = await stale.loginVoicePrint('--sam--')
    now += 5 * 60_000
    expect(stale.checkAccess(sam.token, 'control_oven', 'house1').allowed).toBe(true) // a use to write back
    await second.atLeast(stale.revision)
    await second.logout(sam.token)
    await stale.flush()
    expect(stale.checkAccess(sam.token, 'control_oven', 'house1').error).toBe('InvalidAccessToken')
    const stored = (await stale.store.loadSnapshot()).rows.access_tokens.find((t) => t.id === sam.tokenId)
    expect(stored?.ended_at).not.toBeNull()
    expect(stored?.ended_at).toBe(new Date(now).toISOString()) // the logout's time, kept by the flush
    await stale.close()
  })

  it('refuses to wait for a revision that was never written', async () => {
    await expect(second.atLeast(first.revision + 100)).rejects.toThrow(/has not been written yet/)
  })
})
