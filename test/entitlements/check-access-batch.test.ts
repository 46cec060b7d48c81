import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { checkAccessBatch } from '../../src/entitlements/session-operations.js'
import { CustodianError } from '../../src/errors.js'
import { checkInput, invoke } from '../../src/kernel/operations.js'
import { type LineReport, runScript } from '../../src/script/run-script.js'
import { tempSqlite } from '../support/temp-store.js'

interface Answer {
  allowed: boolean
  user: string
  reason: string
  revision: number
}

describe('check_access_batch: many questions, answered in order, with one audit commit', () => {
  const temp = tempSqlite()
  let custodian: Custodian
  const tokens: Record<string, string> = {}
  const run = async (...lines: string[]) => {
    const reports: LineReport[] = []
    await runScript(custodian, Readable.from(lines.join('\n')), (r) => reports.push(r))
    return reports
  }
  const batch = (token: string | undefined, input: unknown) =>
    invoke(
      checkAccessBatch,
      { custodian, token, address: 'test', baseUrl: '' },
      checkInput(checkAccessBatch, input),
    ) as Promise<{ answers: Answer[]; revision: number }>
  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(CustodianError)
    return error as CustodianError
  }
  const auditCount = async () => (await custodian.store.readAudit(0, 100_000)).length

  beforeAll(async () => {
    custodian = await Custodian.open({
      db: temp.target,
      follow: false,
      config: { logLevel: 'silent', maxBatchChecks: 5 },
    })
    const setup = await run(
      'define_permission open_door, Open door, opens a door',
      'define_role opener, Opener, opens doors',
      'add_entitlement_to_role opener, open_door',
      'create_resource house1, House one',
      'create_resource door1, Front door, house1',
      'create_resource house2, House two',
      'create_resource_role house1_opener, opener, house1',
      'create_user alice, Alice',
      'add_user_credential alice, password, alice secret',
      'add_resource_role_to_user alice, house1_opener',
      'create_user bob, Bob',
      'add_user_credential bob, password, bob secret',
      'create_user root, Root',
      'add_user_credential root, password, root secret',
      'add_role_to_user root, admin',
    )
    expect(setup.filter((r) => !r.ok)).toEqual([])
    for (const user of ['alice', 'bob', 'root'])
      tokens[user] = (await custodian.login(user, `${user} secret`)).token
    await custodian.flush()
  })
  afterAll(async () => {
    await custodian.close()
    temp.remove()
  })

  it("answers the token's own questions in order, allowed and denied mixed, audited as one record in one commit", async () => {
    const before = await auditCount()
    const write = vi.spyOn(custodian.store, 'write')
    const append = vi.spyOn(custodian.store, 'appendAudit')
    const { answers, revision } = await batch(tokens.alice, {
      questions: [
        { permission: 'open_door', resource: 'door1' },
        { permission: 'open_door', resource: 'house2' },
        { permission: 'open_door', resource: 'house1' },
        { permission: 'open_door', resource: 'nowhere' },
      ],
    })
    const commits = write.mock.calls.length + append.mock.calls.length
    write.mockRestore()
    append.mockRestore()
    expect(answers.map((a) => [a.allowed, a.user])).toEqual([
      [true, 'alice'],
      [false, 'alice'],
      [true, 'alice'],
      [false, 'alice'],
    ])
    expect(answers[0]?.reason).toBe('alice holds open_door on house1, which contains door1')
    expect(answers[1]?.reason).toMatch(/^alice holds open_door on house1 .*not among them|house2/)
    expect(answers[3]?.reason).toMatch(/nowhere is not a registered resource/)
    expect(answers.every((a) => a.revision === revision)).toBe(true)
    // Every decision is in the audit log when the answer arrives, written by a single commit.
    expect(commits).toBe(1)
    const records = (await custodian.store.readAudit(0, 100_000)).slice(before)
    // One record for the batch: every question with its decision, in order.
    expect(records.map((r) => [r.actor, r.action, r.resource, r.outcome])).toEqual([
      ['alice', 'check batch', '4 question(s)', 'denied'],
    ])
    expect(records[0]?.reason.split('\n')).toEqual([
      '2 allowed, 2 denied:',
      `1. open_door on door1: allowed, ${answers[0]?.reason}`,
      `2. open_door on house2: denied, ${answers[1]?.reason}`,
      `3. open_door on house1: allowed, ${answers[2]?.reason}`,
      `4. open_door on nowhere: denied, ${answers[3]?.reason}`,
    ])
  })

  it('lets an administrator ask about other users, and refuses anyone else with 403 before deciding', async () => {
    const asAdmin = await batch(tokens.root, {
      questions: [
        { permission: 'open_door', resource: 'door1', user: 'alice' },
        { permission: 'open_door', resource: 'door1', user: 'bob' },
        { permission: 'open_door', resource: 'door1' },
      ],
    })
    expect(asAdmin.answers.map((a) => [a.allowed, a.user])).toEqual([
      [true, 'alice'],
      [false, 'bob'],
      [true, 'root'],
    ])
    const [record] = (await custodian.store.readAudit(0, 100_000)).slice(-1)
    expect(record).toMatchObject({ actor: 'root', action: 'check batch', outcome: 'denied' })
    const reasons = asAdmin.answers.map((a) => a.reason)
    expect(record?.reason.split('\n')).toEqual([
      '2 allowed, 1 denied:',
      `1. open_door on door1 for alice: allowed, ${reasons[0]}`,
      `2. open_door on door1 for bob: denied, ${reasons[1]}`,
      `3. open_door on door1: allowed, ${reasons[2]}`,
    ])

    const before = await auditCount()
    const error = await refusal(
      batch(tokens.bob, {
        questions: [
          { permission: 'open_door', resource: 'door1', user: 'bob' },
          { permission: 'open_door', resource: 'door1', user: 'alice' },
        ],
      }),
    )
    expect(error.status).toBe(403)
    expect(error.message).toBe(
      'bob may not check the access of other users (alice): it needs the admin permission, which bob does not hold',
    )
    const refused = (await custodian.store.readAudit(0, 100_000)).slice(before)
    expect(refused.map((r) => [r.actor, r.action, r.outcome])).toEqual([
      ['bob', 'check batch', 'AccessDenied'],
    ])
    // Naming oneself is no other user.
    const own = await batch(tokens.bob, {
      questions: [{ permission: 'open_door', resource: 'door1', user: 'bob' }],
    })
    expect(own.answers.map((a) => a.allowed)).toEqual([false])
  })

  it('refuses more questions than maxBatchChecks with 413, and an invalid token with 401', async () => {
    const six = Array.from({ length: 6 }, () => ({ permission: 'open_door', resource: 'door1' }))
    const before = await auditCount()
    const tooMany = await refusal(batch(tokens.alice, { questions: six }))
    expect(tooMany.status).toBe(413)
    expect(tooMany.message).toBe(
      '6 questions in one batch check; at most 5 (the limit maxBatchChecks, --max-batch-checks)',
    )
    expect(await auditCount()).toBe(before)

    const invalid = await refusal(batch('not-a-token', { questions: six.slice(0, 2) }))
    expect(invalid.status).toBe(401)
    const none = await refusal(batch(undefined, { questions: six.slice(0, 2) }))
    expect(none.status).toBe(401)
    const records = (await custodian.store.readAudit(0, 100_000)).slice(before)
    expect(records.map((r) => [r.actor, r.action, r.outcome])).toEqual([
      ['anonymous', 'check batch', 'InvalidAccessToken'],
      ['anonymous', 'check batch', 'InvalidAccessToken'],
    ])
  })

  it('waits for min_revision, and answers an empty batch', async () => {
    const { answers, revision } = await batch(tokens.alice, { questions: [], min_revision: 1 })
    expect(answers).toEqual([])
    expect(revision).toBe(custodian.index.revision)
  })

  it('takes a question a field in scripts', async () => {
    const [login, asked, badQuestion] = await run(
      'login user alice, password alice secret',
      'check_access_batch @alice, open_door door1, open_door house2',
      'check_access_batch @alice, open_door',
    )
    expect(login?.ok).toBe(true)
    expect(asked).toMatchObject({
      ok: true,
      message: expect.stringMatching(
        /^allowed: alice holds open_door on house1, which contains door1; denied: /,
      ),
      result: {
        answers: [
          { allowed: true, user: 'alice' },
          { allowed: false, user: 'alice' },
        ],
      },
    })
    expect(badQuestion).toMatchObject({ ok: false })
  })
})
