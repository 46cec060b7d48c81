import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readEspi } from '../../src/greenbutton/espi-reader.js'
import { ALICE_BODY } from '../support/customers.js'
import { notifyReceiver } from '../support/notify-receiver.js'
import { CookieJar } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { grantAccess, registerSolarSavings } from '../support/third-party.js'
import { until } from '../support/wait.js'

const DAY = 86_400
const today = Math.floor(Date.now() / 1000 / DAY) * DAY
const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10)

/**
 * The access history records what each fetch served: the resource, and the days of the readings actually
 * sent, a page of a paged feed covering that page only.
 */
describe('the customer’s access history', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let receiver: Awaited<ReturnType<typeof notifyReceiver>>
  let token: string
  let meterReading: string

  const espi = async (url: string) => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    expect(response.status).toBe(200)
    return readEspi([await response.text()])
  }

  beforeAll(async () => {
    receiver = await notifyReceiver()
    let admin: string
    ;({ server, admin } = await startWithAdmin(temp.target, { CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1' }))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'meter A', kind: 'electricity', id: 'up_a' },
    })
    // One hourly reading on each of three days: three daily interval blocks.
    const rows = [3, 2, 1].map((n) => `up_a,${today - n * DAY},3600,${n * 100}`)
    const published = await fetch(`${server.url}/v1/usage-data?name=readings.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      body: `usage_point,start,duration,value\n${rows.join('\n')}\n`,
    })
    expect(published.status).toBe(200)
    const redirectUri = 'https://solar.example/callback'
    const { config } = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: receiver.url,
      scope: `FB=1_4_5;IntervalDuration=3600;HistoryLength=${30 * DAY}`,
    })
    ;({ token } = await grantAccess(server.url, config, redirectUri, 'FB=4_5;IntervalDuration=3600', {
      username: 'alice',
      password: 'alice password',
    }))
    const [authorization] = (await espi(`${server.url}/espi/1_1/resource/Authorization`)).entries
    const batch = String((authorization?.content as { fields: Record<string, unknown> }).fields.resourceURI)
    const { entries } = await espi(batch)
    meterReading = entries.find((e) => e.content.kind === 'MeterReading')?.self as string
  })
  afterAll(async () => {
    await server?.stop()
    await receiver?.close()
    temp.remove()
  })

  it('lists each fetch with the days of the readings it sent', async () => {
    const page = await espi(`${meterReading}/IntervalBlock?start-index=2&max-results=1`)
    expect(page.entries).toHaveLength(1)
    const jar = new CookieJar()
    jar.take(
      await fetch(`${server.url}/account/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=alice&password=alice+password',
      }),
    )
    const rows = await until('two fetches in alice’s access history', async () => {
      const html = await (
        await fetch(`${server.url}/account/data`, { headers: { cookie: jar.header() } })
      ).text()
      const found = [...html.matchAll(/<tr><td>[^<]+<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td>/g)].map((m) => [
        m[1],
        m[2],
      ])
      return found.length >= 2 ? found : undefined
    })
    // Newest first: the page of the interval blocks, then the batch.
    expect(rows).toEqual([
      ['interval readings', day(today - 2 * DAY)],
      ['all shared data (batch)', `${day(today - 3 * DAY)} to ${day(today - DAY)}`],
    ])
  })
})
