import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/** POST /v1/checks against the real server: answers in order, every decision committed before the answer. */
describe('batch check over HTTP', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let alice: string
  /** The reasons of the batch records committed to the store file, read beside the server. */
  const committedBatches = () => {
    const db = new Database(temp.target, { readonly: true })
    try {
      return (
        db.prepare("select reason from audit_log where action = 'check batch' order by seq").all() as {
          reason: string
        }[]
      ).map((r) => r.reason)
    } finally {
      db.close()
    }
  }

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target, { CUSTODIAN_MAX_BATCH_CHECKS: '3' }))
    const steps: [string, string, unknown?][] = [
      ['POST', '/v1/permissions', { id: 'open_door', name: 'Open door', description: 'opens a door' }],
      ['POST', '/v1/roles', { id: 'opener', name: 'Opener', description: 'opens doors' }],
      ['PUT', '/v1/roles/opener/entitlements/open_door'],
      ['POST', '/v1/resources', { id: 'house1', description: 'House one' }],
      ['POST', '/v1/resources', { id: 'door1', description: 'Front door', parent: 'house1' }],
      ['POST', '/v1/resource-roles', { id: 'house1_opener', role: 'opener', resource: 'house1' }],
    ]
    for (const [method, path, body] of steps) {
      const answer = await call(server.url, method, path, { token: admin, body })
      expect(answer.status, `${method} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(300)
    }
    alice = await userWithSession(server.url, admin, 'alice')
    await call(server.url, 'PUT', '/v1/users/alice/resource-roles/house1_opener', { token: admin })
    await userWithSession(server.url, admin, 'bob')
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  it('answers in order, allowed and denied, with every decision in the audit log when the answer arrives', async () => {
    const before = committedBatches().length
    const answer = await call(server.url, 'POST', '/v1/checks', {
      token: alice,
      body: {
        questions: [
          { permission: 'open_door', resource: 'door1' },
          { permission: 'open_door', resource: 'house2' },
          { permission: 'open_door', resource: 'house1' },
        ],
      },
    })
    expect(answer.status).toBe(200)
    const answers = answer.body.answers as { allowed: boolean; user: string; reason: string }[]
    expect(answers.map((a) => [a.allowed, a.user])).toEqual([
      [true, 'alice'],
      [false, 'alice'],
      [true, 'alice'],
    ])
    expect(answers[0]?.reason).toBe('alice holds open_door on house1, which contains door1')
    expect(answer.body.revision).toEqual(expect.any(Number))
    const batches = committedBatches()
    expect(batches).toHaveLength(before + 1)
    expect(batches.at(-1)?.split('\n').slice(1)).toEqual([
      '1. open_door on door1: allowed, alice holds open_door on house1, which contains door1',
      `2. open_door on house2: denied, ${answers[1]?.reason}`,
      '3. open_door on house1: allowed, alice holds open_door on house1',
    ])
  })

  it('lets the administrator ask about other users, and refuses others (403), too many (413) and bad tokens (401)', async () => {
    const other = [{ permission: 'open_door', resource: 'door1', user: 'alice' }]
    const asAdmin = await call(server.url, 'POST', '/v1/checks', {
      token: admin,
      body: { questions: [...other, { permission: 'open_door', resource: 'door1', user: 'bob' }] },
    })
    expect(asAdmin.status).toBe(200)
    expect((asAdmin.body.answers as { allowed: boolean }[]).map((a) => a.allowed)).toEqual([true, false])

    const asAlice = await call(server.url, 'POST', '/v1/checks', {
      token: alice,
      body: { questions: [{ permission: 'open_door', resource: 'door1', user: 'bob' }] },
    })
    expect(asAlice.status).toBe(403)
    expect(asAlice.body).toMatchObject({
      type: 'urn:custodian:problem:AccessDenied',
      detail:
        'alice may not check the access of other users (bob): it needs the admin permission, which alice does not hold',
    })

    const four = Array.from({ length: 4 }, () => ({ permission: 'open_door', resource: 'door1' }))
    const tooMany = await call(server.url, 'POST', '/v1/checks', { token: alice, body: { questions: four } })
    expect(tooMany.status).toBe(413)
    expect(tooMany.body.detail).toMatch(/at most 3 \(the limit maxBatchChecks, --max-batch-checks\)/)

    const badToken = await call(server.url, 'POST', '/v1/checks', {
      token: 'nonsense',
      body: { questions: other },
    })
    expect(badToken.status).toBe(401)
    const malformed = await call(server.url, 'POST', '/v1/checks', {
      token: alice,
      body: { questions: [{}] },
    })
    expect(malformed.status).toBe(400)
  })
})
