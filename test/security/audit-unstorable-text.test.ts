import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { storeBackends } from '../support/temp-store.js'

/**
 * Audit records hold callers' text (the resource a check asks about, with or without a valid token). Text no
 * store takes (a NUL: PostgreSQL's text refuses it; a lone surrogate: not UTF-8) must not fail the batch it
 * is in: a failed batch is written again with the next, so one such request would fail every audited answer
 * after it. A JSON body holding a NUL is refused, naming the field; what reaches a record is stored with
 * U+FFFD in their place (test/store/conformance/audit-log.test.ts), and the chain still verifies.
 */
describe.each(storeBackends)('audit records of text no store takes, on $name', ({ make }) => {
  let remove: () => Promise<void> = async () => {}
  let server: RunningServer
  let admin: string
  let alice: string
  beforeAll(async () => {
    const temp = await make()
    remove = temp.remove
    ;({ server, admin } = await startWithAdmin(temp.target))
    alice = await userWithSession(server.url, admin, 'alice')
  })
  afterAll(async () => {
    await server?.stop()
    await remove()
  })

  it('answers the checks that hold it, and every check after them, and the chain verifies', async () => {
    const nul = await call(server.url, 'POST', '/v1/check', {
      token: 'no such token',
      body: { permission: 'open_door', resource: 'door\u0000one' },
    })
    expect(nul.status).toBe(400)
    expect(nul.body.detail).toBe('body.resource holds a NUL character (\\u0000), which no text may hold')
    const unknownToken = await call(server.url, 'POST', '/v1/check', {
      token: 'no such token',
      body: { permission: 'open_door', resource: 'door\uDC00one' },
    })
    expect(unknownToken.status).toBe(401)
    const lone = await call(server.url, 'POST', '/v1/check', {
      token: alice,
      body: { permission: 'open_door', resource: 'door\uD800two' },
    })
    expect(lone.status).toBe(403)
    const after = await call(server.url, 'POST', '/v1/check', {
      token: alice,
      body: { permission: 'open_door', resource: 'door3' },
    })
    expect(after.status).toBe(403)

    const log = await call(server.url, 'GET', '/v1/audit?limit=1000', { token: admin })
    const resources = (log.body.items as { resource: string }[]).map((r) => r.resource)
    expect(resources).toEqual(expect.arrayContaining(['door\uFFFDone', 'door\uFFFDtwo', 'door3']))
    const verified = await call(server.url, 'POST', '/v1/audit/verification', { token: admin, body: {} })
    expect(verified.body).toMatchObject({ ok: true, problems: [] })
  })
})
