import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { MAX_IMPORT_BYTES } from '../../src/entitlements/import-routes.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { tempSqlite } from '../support/temp-store.js'

const jsonLines = (...records: object[]) => records.map((r) => JSON.stringify(r)).join('\n')

describe('POST /v1/imports/entitlements', () => {
  const temp = tempSqlite()
  let custodian: Custodian
  let app: FastifyInstance
  let admin = ''
  const post = (body: string, options: { token?: string; type?: string; name?: string } = {}) =>
    app.inject({
      method: 'POST',
      url: `/v1/imports/entitlements${options.name ? `?name=${options.name}` : ''}`,
      headers: {
        'content-type': options.type ?? 'application/x-ndjson',
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      },
      payload: body,
    })

  beforeAll(async () => {
    custodian = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    app = (await buildApp(custodian, { logger: createLogger('silent') })) as unknown as FastifyInstance
    await app.ready()
    await custodian.createUser(undefined, { id: 'root', name: 'Root' })
    await custodian.addUserCredential(undefined, 'root', 'password', 'root secret')
    await custodian.grantToUser(undefined, 'root', 'admin')
    admin = (await custodian.login('root', 'root secret')).token
  })
  afterAll(async () => {
    await app?.close()
    await custodian?.close()
    temp.remove()
  })

  it('refuses a caller without a token, or one who is not an administrator, and writes nothing', async () => {
    const body = jsonLines(
      { type: 'user', id: 'mallory' },
      { type: 'grant', user: 'mallory', permission: 'admin' },
    )
    expect((await post(body)).statusCode).toBe(401)
    await custodian.createUser(admin, { id: 'plain', name: 'Plain' })
    await custodian.addUserCredential(admin, 'plain', 'password', 'plain secret')
    const plain = (await custodian.login('plain', 'plain secret')).token
    const refused = await post(body, { token: plain })
    expect(refused.statusCode).toBe(403)
    expect(custodian.index.users.has('mallory')).toBe(false)
  })

  it('imports JSON Lines, answers the counts, and the Index holds the import at once', async () => {
    const response = await post(
      jsonLines(
        { type: 'permission', id: 'read_meter', name: 'Read meter' },
        { type: 'role', id: 'reader', permissions: ['read_meter'] },
        { type: 'resource', id: 'house1' },
        { type: 'resource_role', id: 'house1_reader', role: 'reader', resource: 'house1' },
        { type: 'user', id: 'ann', name: 'Ann' },
        { type: 'credential', user: 'ann', password: 'ann secret' },
        { type: 'grant', user: 'ann', resource_role: 'house1_reader' },
      ),
      { token: admin, name: 'people.jsonl' },
    )
    expect(response.statusCode).toBe(200)
    const result = response.json()
    expect(result).toMatchObject({
      rows: 8, // and the role's permission
      counts: { permission: 1, role: 1, resource: 1, resource_role: 1, user: 1, credential: 1, grant: 1 },
      summary: expect.stringContaining('from people.jsonl'),
    })
    expect(response.headers['custodian-revision']).toBe(String(result.revision))
    expect(custodian.revision).toBeGreaterThanOrEqual(result.revision)
    const ann = (await custodian.login('ann', 'ann secret')).token
    expect(custodian.checkAccess(ann, 'read_meter', 'house1').allowed).toBe(true)
    const audit = await custodian.store.readAudit(0, 1000)
    expect(audit.filter((a) => a.action === 'entitlements.import')).toEqual([
      expect.objectContaining({ actor: 'root', resource: 'people.jsonl', outcome: 'ok' }),
    ])
  })

  it('imports CSV with a type column', async () => {
    const csv = 'type,id,name,user,role\nuser,bea,Bea,,\ngrant,,,bea,reader\n'
    const response = await post(csv, { token: admin, type: 'text/csv' })
    expect(response.statusCode).toBe(200)
    expect(response.json().counts).toMatchObject({ user: 1, grant: 1 })
    expect(custodian.index.users.has('bea')).toBe(true)
  })

  it('answers 400 naming every problem by line and field, and writes nothing when the last line is bad', async () => {
    const before = custodian.revision
    const response = await post(
      jsonLines(
        { type: 'user', id: 'cat' },
        { type: 'grant', user: 'cat', role: 'reader' },
        { type: 'grant', user: 'cat', role: 'no_such_role' },
      ),
      { token: admin },
    )
    expect(response.statusCode).toBe(400)
    const problem = response.json()
    expect(problem.detail).toBe(
      'nothing imported: 1 problem(s), the first on line 3 (role): role no_such_role is neither in the file nor in the store',
    )
    expect(problem.problems).toEqual([
      { line: 3, field: 'role', message: 'role no_such_role is neither in the file nor in the store' },
    ])
    expect(custodian.index.users.has('cat')).toBe(false)
    expect((await custodian.store.changesSince(before)).length).toBe(0)
  })

  it(`refuses a body over ${MAX_IMPORT_BYTES} bytes with 413`, async () => {
    const line = `${JSON.stringify({ type: 'user', id: 'x', name: 'y'.repeat(1000) })}\n`
    const response = await post(line.repeat(Math.ceil(MAX_IMPORT_BYTES / line.length) + 1), { token: admin })
    expect(response.statusCode).toBe(413)
  })
})
