import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { type LineReport, runScript } from '../../src/script/run-script.js'
import { tempSqlite } from '../support/temp-store.js'

describe('list_sessions: the open sessions of a user, for administrators', () => {
  const temp = tempSqlite()
  let now = Date.parse('2026-11-23T10:00:00Z')
  let custodian: Custodian
  const run = async (...lines: string[]) => {
    const reports: LineReport[] = []
    await runScript(custodian, Readable.from(lines.join('\n')), (r) => reports.push(r))
    return reports
  }

  beforeAll(async () => {
    custodian = await Custodian.open({
      db: temp.target,
      clock: () => now,
      follow: false,
      config: { logLevel: 'silent' },
    })
  })
  afterAll(async () => {
    await custodian.close()
    temp.remove()
  })

  it('lists open sessions oldest first, leaves out ended ones, and checks its argument and its caller', async () => {
    const setup = await run(
      'create_user bob, Bob',
      'add_user_credential bob, password, bob secret',
      'create_user root, Root',
      'add_user_credential root, password, root secret',
      'add_role_to_user root, admin',
    )
    expect(setup.filter((r) => !r.ok)).toEqual([])
    const first = await custodian.login('bob', 'bob secret')
    now += 1000
    const second = await custodian.login('bob', 'bob secret')
    await custodian.logout(first.token)

    const [login, listed, unknown, tooLong] = await run(
      'login user root, password root secret',
      'list_sessions bob',
      'list_sessions nobody',
      `list_sessions ${'x'.repeat(201)}`,
    )
    expect(login?.ok).toBe(true)
    expect(listed).toMatchObject({
      ok: true,
      message: `1 open session(s), ${second.tokenId} (password, last used 2026-11-23T10:00:01.000Z)`,
      result: {
        items: [
          {
            token_id: second.tokenId,
            method: 'password',
            created_at: '2026-11-23T10:00:01.000Z',
            expires_at: second.expiresAt,
            last_used_at: '2026-11-23T10:00:01.000Z',
          },
        ],
      },
    })
    expect(unknown).toMatchObject({
      ok: false,
      error: { code: 'NotFound', message: 'user nobody does not exist' },
    })
    expect(tooLong).toMatchObject({
      ok: false,
      error: { code: 'Validation', message: 'id Expected string length less or equal to 200' },
    })

    const [bobLogin, refused] = await run('login user bob, password bob secret', 'list_sessions bob')
    expect(bobLogin?.ok).toBe(true)
    expect(refused).toMatchObject({
      ok: false,
      error: {
        code: 'AccessDenied',
        message:
          'bob may not list sessions: it needs the user_admin permission (or admin), which bob does not hold',
      },
    })
  })

  it('answers GET /v1/users/:id/sessions from the same table entry, documented in /openapi.json', async () => {
    const app = await buildApp(custodian, { logger: createLogger('silent') })
    try {
      const root = await custodian.login('root', 'root secret')
      const listed = await app.inject({
        method: 'GET',
        url: '/v1/users/root/sessions',
        headers: { authorization: `Bearer ${root.token}` },
      })
      expect(listed.statusCode).toBe(200)
      expect(listed.json().items).toContainEqual(expect.objectContaining({ token_id: root.tokenId }))
      const anonymous = await app.inject({ method: 'GET', url: '/v1/users/root/sessions' })
      expect(anonymous.statusCode).toBe(401)
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
      expect(doc.paths['/v1/users/{id}/sessions'].get).toMatchObject({
        operationId: 'list_sessions',
        description:
          'Needs the user_admin permission (or admin, which allows every administrative operation).',
        security: [{ bearerAuth: [] }],
      })
    } finally {
      await app.close()
    }
  })
})
