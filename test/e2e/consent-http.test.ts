import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/** ESPI consent over HTTP against the real server. */
describe('ESPI consent over HTTP', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let clientId: string
  let point: string

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    for (const who of ['carol', 'dave']) {
      const created = await call(server.url, 'POST', '/v1/customers', {
        token: admin,
        body: {
          username: who,
          name: `${who} Smith`,
          email: `${who}@example.org`,
          account_number: `ACCT-${who}`,
          password: `${who} password`,
        },
      })
      expect(created.status, JSON.stringify(created.body)).toBe(201)
      expect(created.body.id).toMatch(/^rc_/)
    }
    point = (
      await call(server.url, 'POST', '/v1/customers/carol/usage-points', {
        token: admin,
        body: { description: 'Flat 3, gas', kind: 'gas' },
      })
    ).body.id as string
    const party = await call(server.url, 'POST', '/v1/third-parties', {
      token: admin,
      body: {
        name: 'Heat Pump Advisor',
        redirect_uris: ['https://heat.example/cb'],
        notify_uri: 'https://heat.example/notify',
        scope: 'FB=1_4_15;IntervalDuration=3600',
      },
    })
    expect(party.status).toBe(201)
    expect(party.headers.get('cache-control')).toBe('no-store')
    clientId = party.body.client_id as string
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  it('lists third parties publicly, without secrets', async () => {
    const list = await call(server.url, 'GET', '/v1/third-parties')
    expect(list.body.items).toEqual([
      { client_id: clientId, name: 'Heat Pump Advisor', description: '', standing: 'active' },
    ])
  })

  it('lets a customer grant, extend and terminate her own authorization, and nobody else', async () => {
    const carol = (
      await call(server.url, 'POST', '/v1/sessions', { body: { user: 'carol', password: 'carol password' } })
    ).body.token as string
    const dave = (
      await call(server.url, 'POST', '/v1/sessions', { body: { user: 'dave', password: 'dave password' } })
    ).body.token as string
    const granted = await call(server.url, 'POST', '/v1/me/authorizations', {
      token: carol,
      body: {
        client_id: clientId,
        usage_point_ids: [point],
        scope: 'FB=4;IntervalDuration=3600',
        period_end: '+90d',
      },
    })
    expect(granted.status, JSON.stringify(granted.body)).toBe(201)
    const id = granted.body.id as string

    const mine = await call(server.url, 'GET', '/v1/me/authorizations', { token: carol })
    expect(mine.body.items).toEqual([
      expect.objectContaining({
        id,
        status: 'active',
        scope: 'FB=4;IntervalDuration=3600',
        authorizationURI: `${server.url}/espi/1_1/resource/Authorization/${id}`,
        thirdParty: { clientId, name: 'Heat Pump Advisor' },
        usagePoints: [{ id: point, description: 'Flat 3, gas' }],
      }),
    ])
    expect((await call(server.url, 'GET', '/v1/me/authorizations', { token: dave })).body.items).toEqual([])
    const stolen = await call(server.url, 'PUT', `/v1/me/authorizations/${id}/period-end`, {
      token: dave,
      body: { period_end: '+365d' },
    })
    expect(stolen).toMatchObject({ status: 404, body: { detail: `authorization ${id} is not one of yours` } })

    expect(
      (
        await call(server.url, 'PUT', `/v1/me/authorizations/${id}/period-end`, {
          token: carol,
          body: { period_end: '+365d' },
        })
      ).status,
    ).toBe(200)
    const ended = await call(server.url, 'POST', `/v1/me/authorizations/${id}/termination`, {
      token: carol,
      body: { date: 'today' },
    })
    expect(ended.status).toBe(200)
    const all = await call(server.url, 'GET', '/v1/authorizations', { token: admin })
    expect(all.body.items).toEqual([expect.objectContaining({ id, status: 'terminated', clientId })])
    expect((await call(server.url, 'GET', '/v1/authorizations', { token: carol })).status).toBe(403)
  })

  it('refuses to authorize a suspended third party', async () => {
    await call(server.url, 'PUT', `/v1/third-parties/${clientId}/standing`, {
      token: admin,
      body: { standing: 'suspended' },
    })
    const carol = (
      await call(server.url, 'POST', '/v1/sessions', { body: { user: 'carol', password: 'carol password' } })
    ).body.token as string
    const refused = await call(server.url, 'POST', '/v1/me/authorizations', {
      token: carol,
      body: { client_id: clientId, usage_point_ids: [point], scope: 'FB=4', period_end: '+30d' },
    })
    expect(refused).toMatchObject({
      status: 409,
      body: { detail: 'third party Heat Pump Advisor is suspended, so it cannot be authorized' },
    })
  })
})
