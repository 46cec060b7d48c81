import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { AccessDeniedError, AuthenticationError, InvalidAccessTokenError } from '../../src/errors.js'
import { type LineReport, runScriptFile } from '../../src/script/run-script.js'
import { tempSqlite } from '../support/temp-store.js'

const seedScript = fileURLToPath(new URL('../fixtures/housemate-seed.script', import.meta.url))

describe("the seed's sample data", () => {
  const temp = tempSqlite()
  let now = Date.parse('2026-11-23T10:00:00Z')
  let custodian: Custodian
  const reports: LineReport[] = []

  beforeAll(async () => {
    custodian = await Custodian.open({
      db: temp.target,
      clock: () => now,
      follow: false,
      // Tokens from voice prints live minutes by default; these tests follow a token for hours.
      config: { logLevel: 'silent', voiceTokenLifetimeSeconds: 86_400 },
    })
    const summary = await runScriptFile(custodian, seedScript, (r) => reports.push(r))
    expect(summary.failed).toBe(0)
    // house1 gets a kitchen with an oven, so that containment can be checked.
    await custodian.createResource(undefined, {
      id: 'house1_kitchen',
      description: 'Kitchen',
      parentId: 'house1',
    })
    await custodian.createResource(undefined, {
      id: 'house1_oven',
      description: 'Oven',
      parentId: 'house1_kitchen',
    })
    await custodian.createResource(undefined, { id: 'house2', description: 'Another house' })
  })
  afterAll(async () => {
    await custodian.close()
    temp.remove()
  })

  it('runs as one script on an empty store, every line succeeding', () => {
    expect(reports).toHaveLength(30)
    expect(reports.filter((r) => !r.ok)).toEqual([])
    const house1 = reports.find((r) => r.command === 'create_resource_role')
    expect(house1?.ok && house1.message).toMatch(/resource house1 did not exist and was created/)
  })

  it('lets sam control the oven of house1, and jimmy not, but jimmy may open its door', async () => {
    const sam = await custodian.loginVoicePrint('--sam--')
    const jimmy = await custodian.loginVoicePrint('--jimmy--')
    expect(custodian.checkAccess(sam.token, 'control_oven', 'house1').allowed).toBe(true)
    const refused = custodian.checkAccess(jimmy.token, 'control_oven', 'house1')
    expect(refused.allowed).toBe(false)
    expect(refused.reason).toBe(
      'jimmy holds control_door, control_window on house1; control_oven is not among them',
    )
    expect(() => custodian.assertAccess(jimmy.token, 'control_oven', 'house1')).toThrow(AccessDeniedError)
    expect(custodian.checkAccess(jimmy.token, 'control_door', 'house1').allowed).toBe(true)
  })

  it('lets neither sam nor jimmy touch another house', async () => {
    const sam = await custodian.loginVoicePrint('--sam--')
    const jimmy = await custodian.loginVoicePrint('--jimmy--')
    const samRefused = custodian.checkAccess(sam.token, 'control_oven', 'house2')
    expect(samRefused.allowed).toBe(false)
    expect(samRefused.reason).toMatch(/^sam holds no permission that applies to house2/)
    expect(custodian.checkAccess(jimmy.token, 'control_door', 'house2').allowed).toBe(false)
  })

  it('covers a room and an appliance inside a house with a resource role on the house', async () => {
    const sam = await custodian.loginVoicePrint('--sam--')
    const jimmy = await custodian.loginVoicePrint('--jimmy--')
    const oven = custodian.checkAccess(sam.token, 'control_oven', 'house1_oven')
    expect(oven).toMatchObject({
      allowed: true,
      reason: 'sam holds control_oven on house1, which contains house1_oven',
    })
    expect(custodian.checkAccess(sam.token, 'control_thermostat', 'house1_kitchen').allowed).toBe(true)
    expect(custodian.checkAccess(jimmy.token, 'control_oven', 'house1_oven').reason).toBe(
      'jimmy holds control_door, control_window on house1 (which contains house1_oven); control_oven is not among them',
    )
  })

  it('logs debra in with her password, and refuses a wrong one', async () => {
    const debra = await custodian.login('debra', 'secret')
    expect(debra.userId).toBe('debra')
    // debra's admin_role holds control_oven on every resource.
    expect(custodian.checkAccess(debra.token, 'control_oven', 'house2')).toMatchObject({
      allowed: true,
      reason: 'debra holds control_oven',
    })
    await expect(custodian.login('debra', 'wrong')).rejects.toThrow(AuthenticationError)
    await expect(custodian.login('debra', 'wrong')).rejects.toThrow(
      'login failed for user debra: unknown user or wrong password',
    )
  })

  it('refuses a logged-out token', async () => {
    const sam = await custodian.loginVoicePrint('--sam--')
    await custodian.logout(sam.token)
    const refused = custodian.checkAccess(sam.token, 'control_oven', 'house1')
    expect(refused).toMatchObject({ allowed: false, error: 'InvalidAccessToken' })
    expect(refused.reason).toMatch(new RegExp(`^token ${sam.tokenId} of sam was logged out at `))
    expect(() => custodian.assertAccess(sam.token, 'control_oven', 'house1')).toThrow(InvalidAccessTokenError)
  })

  it('refuses an idle token, and every use extends the idle window', async () => {
    const sam = await custodian.loginVoicePrint('--sam--')
    now += 50 * 60_000
    expect(custodian.checkAccess(sam.token, 'control_oven', 'house1').allowed).toBe(true)
    now += 50 * 60_000 // 100 minutes after login, 50 after the last use
    expect(custodian.checkAccess(sam.token, 'control_oven', 'house1').allowed).toBe(true)
    now += 61 * 60_000
    const idle = custodian.checkAccess(sam.token, 'control_oven', 'house1')
    expect(idle).toMatchObject({ allowed: false, error: 'InvalidAccessToken' })
    expect(idle.reason).toMatch(/timed out after 3600 s without use/)
  })

  it('refuses an expired token, saying when it expired', async () => {
    const sam = await custodian.loginVoicePrint('--sam--')
    now += 24 * 3_600_000
    const expired = custodian.checkAccess(sam.token, 'control_oven', 'house1')
    expect(expired.reason).toBe(`token ${sam.tokenId} of sam expired at ${sam.expiresAt}`)
  })

  it('purges tokens a day after they ended or expired, and no sooner', async () => {
    const sam = await custodian.loginVoicePrint('--sam--')
    await custodian.logout(sam.token)
    // Of the earlier tests' tokens, one ended or expired more than a day ago.
    expect(await custodian.purgeTokens()).toBe(1)
    expect(custodian.index.tokens.has(sam.tokenId)).toBe(true)
    now += 24 * 3_600_000 + 1_000
    expect(await custodian.purgeTokens()).toBe(10) // the other nine, and sam's
    expect(custodian.index.tokens.has(sam.tokenId)).toBe(false)
    expect((await custodian.store.loadSnapshot()).rows.access_tokens.map((t) => t.id)).not.toContain(
      sam.tokenId,
    )
  })

  it('grants the permissions of a role nested in a role', async () => {
    await custodian.defineRole(undefined, { id: 'house_guest', name: 'Guest', description: 'Visitor' })
    await custodian.defineRole(undefined, {
      id: 'trusted_guest',
      name: 'Trusted guest',
      description: 'Guest and more',
    })
    await custodian.addEntitlementToRole(undefined, 'house_guest', 'control_door')
    await custodian.addEntitlementToRole(undefined, 'trusted_guest', 'house_guest')
    await custodian.createUser(undefined, { id: 'gina', name: 'Gina' })
    await custodian.addUserCredential(undefined, 'gina', 'voice_print', '--gina--')
    await custodian.createResourceRole(undefined, {
      id: 'house1_trusted_guest',
      roleId: 'trusted_guest',
      resourceId: 'house1',
    })
    await custodian.grantResourceRoleToUser(undefined, 'gina', 'house1_trusted_guest')
    const gina = await custodian.loginVoicePrint('--gina--')
    expect(custodian.checkAccess(gina.token, 'control_door', 'house1_kitchen').allowed).toBe(true)
    expect(custodian.checkAccess(gina.token, 'control_window', 'house1').allowed).toBe(false)
  })

  it('refuses a role cycle, naming it', async () => {
    await expect(custodian.addEntitlementToRole(undefined, 'house_guest', 'trusted_guest')).rejects.toThrow(
      'adding role trusted_guest to role house_guest would make a cycle: house_guest -> trusted_guest -> house_guest',
    )
  })
})
