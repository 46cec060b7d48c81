import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EspiEntry, readEspi } from '../../src/greenbutton/espi-reader.js'
import { ALICE_BODY } from '../support/customers.js'
import { notifyReceiver } from '../support/notify-receiver.js'
import { call, type RunningServer, startServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { discoverAs, grantAccess } from '../support/third-party.js'
import { until } from '../support/wait.js'
import { validateGreenButton } from '../support/xmllint.js'

const DAY = 86_400
const today = Math.floor(Date.now() / 1000 / DAY) * DAY
const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

const readingsOf = (entries: EspiEntry[]) =>
  entries.flatMap((e) =>
    e.content.kind === 'IntervalBlock' && 'readings' in e.content
      ? e.content.readings.map((r) => [r.start, r.value])
      : [],
  )

/** The third party's side of ADE Publication: notified, then reading the customer's data it was granted. */
describe('publishing Green Button data to an authorized third party', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let config: client.Configuration
  let receiver: Awaited<ReturnType<typeof notifyReceiver>>
  const redirectUri = 'https://solar.example/callback'
  const scope = `FB=1_3_4_5_15;IntervalDuration=900;HistoryLength=${30 * DAY}`
  const grants: { token: string; subscription: string; authorization: string }[] = []

  const atom = async (path: string, token?: string) => {
    const response = await fetch(`${server.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    })
    const xml = await response.text()
    if (response.status !== 200) return { status: response.status, xml, entries: [] as EspiEntry[] }
    expect(response.headers.get('content-type')).toMatch(/^application\/atom\+xml/)
    const validation = await validateGreenButton(xml)
    expect(validation.errors).toBe('')
    return { status: response.status, xml, entries: (await readEspi([xml])).entries }
  }

  const publish = async (rows: string[], name = 'readings.csv') => {
    const response = await fetch(`${server.url}/v1/usage-data?name=${name}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      body: `usage_point,start,duration,value\n${rows.join('\n')}\n`,
    })
    return { status: response.status, body: (await response.json()) as Record<string, unknown> }
  }

  const grant = async (usagePoint: string) => {
    grants.push(
      await grantAccess(server.url, config, redirectUri, scope, {
        username: 'alice',
        password: 'alice password',
        usagePoints: [usagePoint],
      }),
    )
    return grants.at(-1) as (typeof grants)[number]
  }

  beforeAll(async () => {
    receiver = await notifyReceiver()
    const notifyUri = receiver.url
    ;({ server, admin } = await startWithAdmin(temp.target, {
      CUSTODIAN_OUTBOX_POLL_MS: '50',
      CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1',
    }))
    await call(server.url, 'POST', '/v1/customers', {
      token: admin,
      body: ALICE_BODY,
    })
    for (const id of ['up_a', 'up_b'])
      await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
        token: admin,
        body: { description: `meter ${id}`, kind: 'electricity', id },
      })
    const party = await call(server.url, 'POST', '/v1/third-parties', {
      token: admin,
      body: {
        name: 'Solar Savings',
        redirect_uris: [redirectUri],
        notify_uri: notifyUri,
        scope: `FB=1_3_4_5_15;IntervalDuration=900_3600;HistoryLength=${400 * DAY};BR=solar-bulk`,
      },
    })
    config = await discoverAs(server.url, party.body.client_id as string, party.body.client_secret as string)
    await grant('up_a')
    await grant('up_b')
  })
  afterAll(async () => {
    await server.stop()
    await receiver.close()
    temp.remove()
  })

  it('publishes a CSV through the admin API, refusing a bad file by line without keeping any of it', async () => {
    const bad = await publish([`up_a,${iso(today)},900,5`, `up_a,${iso(today + 900)},900,five`], 'bad.csv')
    expect(bad.status).toBe(400)
    expect(bad.body.detail).toBe('bad.csv:3:0: value: "five" is not a whole number')
    const good = await publish([
      `up_a,${iso(today - 40 * DAY)},900,40`,
      `up_a,${iso(today - 2 * DAY)},900,2`,
      `up_a,${iso(today)},900,1`,
      `up_b,${iso(today)},900,99`,
    ])
    expect(good.status).toBe(200)
    expect(good.body).toMatchObject({
      readings: 4,
      changedReadings: 4,
      usagePoints: ['up_a', 'up_b'],
      notified: 1,
    })
    // What was stored, per usage point: a CSV's readings in daily blocks, its reading type, the local time given.
    const given = ['LocalTimeParameters of time zone UTC']
    const stored = { meterReadings: 1, readingTypes: 1, summaries: 0, defaults: given }
    expect(good.body.stored).toEqual({
      up_a: { readings: 3, changedReadings: 3, intervalBlocks: 3, ...stored },
      up_b: { readings: 1, changedReadings: 1, intervalBlocks: 1, ...stored },
    })
    const same = await publish([`up_a,${iso(today)},900,1`])
    expect(same.body).toMatchObject({ readings: 1, changedReadings: 0, notified: 0 })
    const none = await fetch(`${server.url}/v1/usage-data`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'usage_point,start,duration,value\n',
    })
    expect(none.status).toBe(401)
  })

  it('gives the third party its usage point A, within its history length, as valid Green Button XML', async () => {
    const [a] = grants
    if (!a) throw new Error('no grant')
    const batch = await atom(`/espi/1_1/resource/Batch/Subscription/${a.subscription}`, a.token)
    expect(batch.status).toBe(200)
    // 40 days ago is outside HistoryLength (30 days); B's 99 belongs to another authorization.
    expect(readingsOf(batch.entries)).toEqual([
      [today - 2 * DAY, 2],
      [today, 1],
    ])
    expect(batch.entries.map((e) => e.content.kind)).toEqual([
      'UsagePoint',
      'LocalTimeParameters',
      'MeterReading',
      'ReadingType',
      'IntervalBlock',
      'IntervalBlock',
    ])
    expect(batch.xml).not.toMatch(/up_a|up_b|alice|Liddell/i)
    const point = batch.entries[0]?.self as string
    const single = await atom(new URL(point).pathname, a.token)
    expect(single.entries).toHaveLength(1)
    const blocks = await atom(
      `${new URL(batch.entries[2]?.self as string).pathname}/IntervalBlock?max-results=1`,
      a.token,
    )
    expect(readingsOf(blocks.entries)).toEqual([[today - 2 * DAY, 2]])
    const top = await atom(`/espi/1_1/resource/Batch/Subscription/${a.subscription}?depth=1`, a.token)
    expect(top.entries.map((e) => e.content.kind)).toEqual(['UsagePoint'])
    const page = await atom(
      `/espi/1_1/resource/Batch/Subscription/${a.subscription}?start-index=3&max-results=2`,
      a.token,
    )
    expect(page.entries.map((e) => e.content.kind)).toEqual(['MeterReading', 'ReadingType'])
    const later = await atom(
      `/espi/1_1/resource/Batch/Subscription/${a.subscription}?updated-min=${encodeURIComponent(iso(today + 10 * DAY))}`,
      a.token,
    )
    expect(later.entries).toEqual([])
    const wrong = await call(
      server.url,
      'GET',
      `/espi/1_1/resource/Batch/Subscription/${a.subscription}?published-min=yesterday`,
      {
        token: a.token,
      },
    )
    expect(wrong.status).toBe(400)
    expect(wrong.body.detail).toBe('published-min: "yesterday" is not a date-time (RFC 3339)')
    // What Date.parse reads but RFC 3339 is not (issue 19, item 8), for each bound.
    for (const bound of ['published-min', 'published-max', 'updated-min', 'updated-max'])
      for (const text of ['03/01/2016', '2016-03-01', '2016-03-01T00:00:00'])
        expect(
          (
            await call(
              server.url,
              'GET',
              `/espi/1_1/resource/Batch/Subscription/${a.subscription}?${bound}=${encodeURIComponent(text)}`,
              { token: a.token },
            )
          ).status,
          `${bound}=${text}`,
        ).toBe(400)
  })

  it('takes an upper bound equal to an entry’s shown time as including it (issue 19, item 7)', async () => {
    const [a] = grants
    if (!a) throw new Error('no grant')
    const path = `/espi/1_1/resource/Batch/Subscription/${a.subscription}`
    const all = await atom(path, a.token)
    const shown = (tag: string) =>
      [...all.xml.matchAll(new RegExp(`<${tag}>([^<]+)</${tag}>`, 'g'))].map((m) => m[1] as string)
    for (const [tag, bound] of [
      ['published', 'published-max'],
      ['updated', 'updated-max'],
    ] as const) {
      const latest = shown(tag).sort().at(-1) as string
      const upTo = await atom(`${path}?${bound}=${encodeURIComponent(latest)}`, a.token)
      expect(upTo.entries.length, `${bound}=${latest}`).toBe(all.entries.length)
    }
  })

  it('refuses a function block outside the Authorization’s scope with 403 and the reason', async () => {
    const [a] = grants
    if (!a) throw new Error('no grant')
    const batch = await atom(`/espi/1_1/resource/Batch/Subscription/${a.subscription}?depth=1`, a.token)
    const point = new URL(batch.entries[0]?.self as string).pathname
    // The scope is FB=1_3_4_5_15: quality summaries need FB 17.
    const quality = await call(server.url, 'GET', `${point}/ElectricPowerQualitySummary`, { token: a.token })
    expect(quality.status).toBe(403)
    expect(quality.body.detail).toBe(
      `ElectricPowerQualitySummary needs function block 17, which this Authorization's scope (${scope}) does not include`,
    )
    const one = await call(server.url, 'GET', `${point}/ElectricPowerQualitySummary/x1`, { token: a.token })
    expect(one.status).toBe(403)
    // Within the scope, an empty collection is still an empty feed.
    expect((await atom(`${point}/ElectricPowerUsageSummary`, a.token)).status).toBe(200)
  })

  it('resolves every up and related link of the feeds, summaries under one name both ways', async () => {
    const [a] = grants
    if (!a) throw new Error('no grant')
    const batch = await atom(`/espi/1_1/resource/Batch/Subscription/${a.subscription}`, a.token)
    const clientId = config.clientMetadata().client_id
    const app = await atom(`/espi/1_1/resource/ApplicationInformation/${clientId}`, a.token)
    const links = new Set<string>()
    for (const e of [...batch.entries, ...app.entries]) {
      if (e.up) links.add(e.up)
      for (const r of e.related) links.add(r)
    }
    const base = `${server.url}/espi/1_1/resource`
    for (const kind of ['ReadingType', 'ApplicationInformation'])
      expect(links, `an up link to ${kind}`).toContain(`${base}/${kind}`)
    const statuses: Record<string, number> = {}
    for (const link of links)
      statuses[new URL(link).pathname] = (await atom(new URL(link).pathname, a.token)).status
    expect(
      Object.values(statuses).every((status) => status === 200),
      JSON.stringify(statuses),
    ).toBe(true)
    const readingTypes = await atom('/espi/1_1/resource/ReadingType', a.token)
    expect(readingTypes.entries.map((e) => e.content.kind)).toEqual(['ReadingType'])
    const apps = await atom('/espi/1_1/resource/ApplicationInformation', a.token)
    expect(apps.entries.map((e) => e.self)).toEqual([`${base}/ApplicationInformation/${clientId}`])
    expect((await atom('/espi/1_1/resource/LocalTimeParameters', a.token)).status).toBe(200)
    expect((await atom('/espi/1_1/resource/ReadingType')).status).toBe(401)
    // A usage point's related link names the summaries as their own up links do (ESPI 1.1's name).
    const related = batch.entries[0]?.related ?? []
    expect(related).toContain(`${batch.entries[0]?.self}/ElectricPowerUsageSummary`)
    expect(related.some((r) => r.endsWith('/UsageSummary'))).toBe(false)
  })

  it('refuses B’s data to the token for A, with the reason, and records every request', async () => {
    const [a, b] = grants
    if (!a || !b) throw new Error('no grants')
    const other = await call(server.url, 'GET', `/espi/1_1/resource/Batch/Subscription/${b.subscription}`, {
      token: a.token,
    })
    expect(other.status).toBe(403)
    expect(other.body.detail).toBe(
      `this access token is for another Authorization than subscription ${b.subscription}`,
    )
    const bFeed = await atom(`/espi/1_1/resource/Batch/Subscription/${b.subscription}`, b.token)
    expect(readingsOf(bFeed.entries)).toEqual([[today, 99]])
    const bPoint = new URL(bFeed.entries[0]?.self as string).pathname.split('/').at(-1)
    const crossed = await call(
      server.url,
      'GET',
      `/espi/1_1/resource/Subscription/${a.subscription}/UsagePoint/${bPoint}`,
      { token: a.token },
    )
    expect(crossed.status).toBe(404)
    const anonymous = await call(server.url, 'GET', `/espi/1_1/resource/Batch/Subscription/${a.subscription}`)
    expect(anonymous.status).toBe(401)
    const log = await until('the request log', async () => {
      const items = (await call(server.url, 'GET', '/v1/audit?limit=1000', { token: admin })).body.items as {
        action: string
        actor: string
        resource: string
        outcome: string
        reason: string
      }[]
      const requests = items.filter((i) => i.action === 'espi.request')
      return requests.some((r) => r.outcome === 'http 401') ? requests : undefined
    })
    const refused = log.find(
      (r) => r.resource.endsWith(`/Batch/Subscription/${b.subscription}`) && r.outcome === 'http 403',
    )
    expect(JSON.parse(refused?.reason ?? '{}')).toMatchObject({
      address: '127.0.0.1',
      status: 403,
      error: `this access token is for another Authorization than subscription ${b.subscription}`,
    })
    const served = log.find(
      (r) =>
        r.resource === `GET /espi/1_1/resource/Batch/Subscription/${a.subscription}` && r.outcome === 'ok',
    )
    expect(JSON.parse(served?.reason ?? '{}').bytes).toBeGreaterThan(1000)
    expect(log.find((r) => r.outcome === 'http 401')?.actor).toBe('anonymous')
  })

  it('serves a Batch/Bulk of all its authorizations to client credentials', async () => {
    const bulk = (await client.clientCredentialsGrant(config, { scope: 'FB=4;BR=solar-bulk' })).access_token
    const feed = await atom('/espi/1_1/resource/Batch/Bulk/solar-bulk', bulk)
    expect(readingsOf(feed.entries).sort()).toEqual(
      [
        [today - 2 * DAY, 2],
        [today, 1],
        [today, 99],
      ].sort(),
    )
    expect((await atom('/espi/1_1/resource/Batch/Bulk/someone-else', bulk)).status).toBe(404)
    const [a] = grants
    expect((await atom('/espi/1_1/resource/Batch/Bulk/solar-bulk', a?.token)).status).toBe(403)
  })

  it('gives client credentials without a scope the third party’s registered allowance', async () => {
    const tokens = await client.clientCredentialsGrant(config)
    expect(tokens.scope).toBe(
      `FB=1_3_4_5_15;IntervalDuration=900_3600;HistoryLength=${400 * DAY};BR=solar-bulk`,
    )
    const feed = await atom('/espi/1_1/resource/Batch/Bulk/solar-bulk', tokens.access_token)
    expect(feed.status).toBe(200)
    expect(readingsOf(feed.entries)).toContainEqual([today, 99])
  })

  it('serves ApplicationInformation to its own third party only', async () => {
    const [a] = grants
    const clientId = config.clientMetadata().client_id
    const mine = await atom(`/espi/1_1/resource/ApplicationInformation/${clientId}`, a?.token)
    expect(mine.entries[0]?.content.kind).toBe('ApplicationInformation')
    expect(mine.xml).not.toMatch(/client_secret>[^<]/)
    expect((await atom('/espi/1_1/resource/ApplicationInformation/someone-else', a?.token)).status).toBe(404)
  })

  it('after termination keeps data up to and including the termination date, and serves nothing newer', async () => {
    const [a] = grants
    if (!a) throw new Error('no grant')
    const alice = (
      await call(server.url, 'POST', '/v1/sessions', { body: { user: 'alice', password: 'alice password' } })
    ).body.token as string
    const ended = await call(server.url, 'POST', `/v1/me/authorizations/${a.authorization}/termination`, {
      token: alice,
      body: { date: iso(today).slice(0, 10) },
    })
    expect(ended.status).toBe(200)
    // Access ends with the termination date: until then the Authorization is still active (ESPI status 1).
    const resource = await atom(`/espi/1_1/resource/Authorization/${a.authorization}`, a.token)
    // Its entry id is a URN of a real UUID (RFC 4122), not the Authorization's own id (issue 19, item 2).
    expect(resource.xml).toMatch(
      /<entry[^>]*>\s*<id>urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}<\/id>/,
    )
    const fields = (resource.entries[0]?.content as { fields: Record<string, unknown> }).fields
    expect(fields.status).toBe(1)
    expect(fields.expires_at).toBe(today + DAY)
    expect((await publish([`up_a,${iso(today + DAY)},900,7`, `up_a,${iso(today + 900)},900,3`])).status).toBe(
      200,
    )
    const batch = await atom(`/espi/1_1/resource/Batch/Subscription/${a.subscription}`, a.token)
    expect(readingsOf(batch.entries)).toEqual([
      [today - 2 * DAY, 2],
      [today, 1],
      [today + 900, 3],
    ])
  })

  it('notifies the third party with a BatchList, retrying after a failure and across a restart', async () => {
    // Every notification so far was refused; the newest publication's notice is still due.
    await until('a refused notification', () => receiver.received.length > 0 || undefined)
    expect(receiver.received.every((n) => n.startsWith('refused'))).toBe(true)
    await server.stop()
    receiver.accept()
    server = await startServer(temp.target, {
      CUSTODIAN_OUTBOX_POLL_MS: '50',
      CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1',
    })
    // Authorization notices (the termination) go to the same listener; the publication's is the one naming data.
    const delivered = await until('a delivered publication notice', () =>
      receiver.received.find((n) => !n.startsWith('refused') && n.includes('/Batch/Subscription/')),
    )
    const [a, b] = grants
    expect(delivered).toContain('<BatchList xmlns="http://naesb.org/espi">')
    // The last publication (after A's termination date, before its end) concerned A only; the refused notices
    // before it were absorbed into it, so B's news is not lost: it names both, each once.
    const uris = [...delivered.matchAll(/<resources>([^<]+)<\/resources>/g)].map((m) => m[1] as string)
    expect(uris.filter((u) => u.includes(`/Batch/Subscription/${a?.subscription}/UsagePoint/`))).toHaveLength(
      1,
    )
    expect(uris.filter((u) => u.includes(`/Batch/Subscription/${b?.subscription}/UsagePoint/`))).toHaveLength(
      1,
    )
    const uri = uris.find((u) => u.includes(a?.subscription as string)) as string
    const fetched = await atom(new URL(uri).pathname, a?.token)
    expect(fetched.entries[0]?.content.kind).toBe('UsagePoint')
  }, 30_000)
})
