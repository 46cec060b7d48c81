import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { notifyReceiver } from '../support/notify-receiver.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { call, type RunningServer, startServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, discoverAs } from '../support/third-party.js'
import { until } from '../support/wait.js'

const DAY = 86_400
const today = Math.floor(Date.now() / 1000 / DAY) * DAY
const iso = (seconds: number) => new Date(seconds * 1000).toISOString()
const METERS = ['up_a', 'up_b', 'up_c']
const ENV = { CUSTODIAN_OUTBOX_POLL_MS: '50', CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1' }

/**
 * Six imports in quick succession across three usage points of one authorization, while the third party's
 * notify receiver refuses; then a restart, and the receiver accepts: the notice it receives names all three
 * usage points, none of their news replaced by another meter's.
 */
describe('publication notices to a receiver that refuses, then accepts', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let receiver: Awaited<ReturnType<typeof notifyReceiver>>

  beforeAll(async () => {
    receiver = await notifyReceiver()
    ;({ server, admin } = await startWithAdmin(temp.target, ENV))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    for (const id of METERS)
      await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
        token: admin,
        body: { description: `meter ${id}`, kind: 'electricity', id },
      })
    const redirectUri = 'https://solar.example/callback'
    const party = await call(server.url, 'POST', '/v1/third-parties', {
      token: admin,
      body: {
        name: 'Solar Savings',
        redirect_uris: [redirectUri],
        notify_uri: receiver.url,
        scope: `FB=1_3_4_5_15;IntervalDuration=900;HistoryLength=${400 * DAY}`,
      },
    })
    const config = await discoverAs(
      server.url,
      party.body.client_id as string,
      party.body.client_secret as string,
    )
    const flow = await authorizationRequest(config, redirectUri, `FB=1_3_4_5_15;IntervalDuration=900`)
    const { callback } = await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: 'alice',
      password: 'alice password',
      usagePoints: METERS,
    })
    await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
    })
  })
  afterAll(async () => {
    await server.stop()
    await receiver.close()
    temp.remove()
  })

  it('delivers, after the restart, one notice naming each of the three usage points', async () => {
    for (let i = 0; i < 6; i++) {
      const meter = METERS[i % 3] as string
      const response = await fetch(`${server.url}/v1/usage-data?name=import-${i}.csv`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
        body: `usage_point,start,duration,value\n${meter},${iso(today + i * 900)},900,${i + 1}\n`,
      })
      expect(response.status).toBe(200)
    }
    await until('a refused notification', () => receiver.received.length > 0)
    await server.stop()
    receiver.accept()
    server = await startServer(temp.target, ENV)

    const notice = await until('a delivered publication notice', () =>
      receiver.received.find((body) => !body.startsWith('refused') && body.includes('/Batch/Subscription/')),
    )
    const usagePoints = new Set(
      [...notice.matchAll(/<resources>[^<]*\/UsagePoint\/([^<]+)<\/resources>/g)].map((m) => m[1]),
    )
    expect(usagePoints.size).toBe(3)
  }, 60_000)
})
