import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authorizeAsCustomer, CookieJar } from '../support/oauth-customer.js'
import { type RunningServer, startServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

const DAY_MS = 86_400_000
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/**
 * A customer's data page and Download My Data show that customer's data only: the fetch log is read by the
 * signed-in customer's id, so the fetches a third party made of bob's data never appear on alice's page,
 * even for a third party both use; and without a session the download answers the sign-in form.
 */
describe('the access history and Download My Data are the customer’s own', () => {
  const temp = tempSqlite()
  let server: RunningServer

  /** A customer's account session: the cookie the sign-in sets. */
  const signIn = async (username: string) => {
    const jar = new CookieJar()
    const response = await fetch(`${server.url}/account/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password: `${username}-demo-password` }).toString(),
    })
    expect(response.status).toBe(303)
    jar.take(response)
    return (path: string) => fetch(`${server.url}${path}`, { headers: { cookie: jar.header() } })
  }
  const usagePointsIn = (csv: string) =>
    new Set(
      csv
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[0]),
    )
  const lastTwoWeeks = `from=${day(Date.now() - 13 * DAY_MS)}&to=${day(Date.now())}`

  beforeAll(async () => {
    server = await startServer(temp.target, { CUSTODIAN_MAILBOX: join(temp.dir, 'mailbox') }, 'demo')
    // Bob connects the demo third party, which fetches his data at once.
    const start = await fetch(`${server.url}/demo/third-party/start`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    })
    const { callback } = await authorizeAsCustomer(
      server.url,
      start.headers.get('location') as string,
      `${server.url}/demo/third-party/callback`,
      { username: 'bob', password: 'bob-demo-password' },
    )
    const connected = await (await fetch(callback)).text()
    expect(connected).toContain('hourly readings received')
  })
  afterAll(async () => {
    await server?.stop()
    temp.remove()
  })

  it('lists bob’s fetches on bob’s page only', async () => {
    const bob = await signIn('bob')
    await until('the fetch in bob’s access history', async () =>
      (await (await bob('/account/data')).text()).includes('all shared data (batch)'),
    )
    const alice = await signIn('alice')
    const page = await (await alice('/account/data')).text()
    expect(page).toContain('No third party has fetched your data yet.')
    expect(page).not.toContain('all shared data (batch)')
    expect(page).toContain('No third party can see your data now.')
  })

  it('downloads the signed-in customer’s usage points only', async () => {
    const alice = await signIn('alice')
    const bob = await signIn('bob')
    const mine = usagePointsIn(await (await alice(`/account/download?format=csv&${lastTwoWeeks}`)).text())
    const his = usagePointsIn(await (await bob(`/account/download?format=csv&${lastTwoWeeks}`)).text())
    expect(mine.size).toBe(2)
    expect(his.size).toBe(1)
    expect([...mine].filter((id) => his.has(id))).toEqual([])
  })

  it('answers the sign-in form, and no data, without a session', async () => {
    for (const path of [`/account/download?format=csv&${lastTwoWeeks}`, '/account/data']) {
      const response = await fetch(`${server.url}${path}`)
      expect(response.status).toBe(401)
      const text = await response.text()
      expect(text).toContain('name="password"')
      expect(text).not.toContain('usage_point')
    }
  })
})
