import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { greenButtonFile, readingsEvery } from '../../bench/greenbutton-file.js'
import { CORPUS } from '../support/corpus.js'
import { ALICE_BODY } from '../support/customers.js'
import { checkEspiConformance } from '../support/espi-conformance.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { grantAccess, registerSolarSavings } from '../support/third-party.js'

// The Green Button samples (any .xml of the corpus folder holding readings); the generated feeds need none.
const SAMPLES = resolve(CORPUS, 'data/greenbutton')
const samples = existsSync(SAMPLES)
  ? readdirSync(SAMPLES).filter(
      (f) => f.endsWith('.xml') && readFileSync(join(SAMPLES, f), 'utf8').includes('<IntervalReading>'),
    )
  : []
const MINUTE = 60
const WEEK = 7 * 86_400

/** The ESPI rules (test/support/espi-conformance.ts) on every feed Custodian serves of each file. */
describe('the ESPI conformance suite on every served feed', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let config: client.Configuration
  const redirectUri = 'https://solar.example/callback'
  const scope = 'FB=1_3_4_5_15_16_17'
  let points = 0

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    ;({ config } = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: 'https://solar.example/notify',
      scope,
    }))
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  /** Publishes a file into a usage point of its own, granted to the third party: the subscription's feed. */
  const publishAndGrant = async (body: string, contentType: string, name: string) => {
    const id = `up_${++points}`
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: name, kind: 'electricity', id },
    })
    const published = await fetch(`${server.url}/v1/usage-data?name=${name}&usage_point=${id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': contentType },
      body,
    })
    expect(published.status, await published.clone().text()).toBe(200)
    const grant = await grantAccess(server.url, config, redirectUri, scope, {
      username: 'alice',
      password: 'alice password',
      usagePoints: [id],
    })
    return {
      report: (await published.json()) as { readings: number },
      feed: `${server.url}/espi/1_1/resource/Batch/Subscription/${grant.subscription}`,
      token: grant.token,
    }
  }

  /** Runs the suite from the subscription's Batch feed: it follows every link from there. */
  const conforms = async (feed: string, token: string) => {
    const { violations, documents } = await checkEspiConformance(feed, token)
    expect(violations).toEqual([])
    const kinds = new Set([...documents.values()].flatMap((d) => d.entries.map((e) => e.content.kind)))
    // What the rules looked at: not an empty feed.
    for (const kind of ['UsagePoint', 'LocalTimeParameters', 'MeterReading', 'ReadingType', 'IntervalBlock'])
      expect(kinds, kind).toContain(kind)
  }

  it('passes on a generated week of 1-minute readings in one IntervalBlock', async () => {
    const readings = readingsEvery(MINUTE, 7)
    const xml = greenButtonFile(readings, { interval: MINUTE, block: WEEK })
    const { report, feed, token } = await publishAndGrant(xml, 'application/xml', 'week.xml')
    expect(report.readings).toBe(10_080)
    await conforms(feed, token)
  })

  it('passes on a generated week of 1-minute readings sent as CSV (no reading type, no local time given)', async () => {
    const rows = readingsEvery(MINUTE, 7).map((r) => `up,${r.start},${MINUTE},${r.value}`)
    const { report, feed, token } = await publishAndGrant(
      `usage_point,start,duration,value\n${rows.join('\n')}\n`,
      'text/csv',
      'week.csv',
    )
    expect(report.readings).toBe(10_080)
    await conforms(feed, token)
  })

  describe.skipIf(samples.length === 0)(`the Green Button samples (looked in ${SAMPLES})`, () => {
    it.each(samples)('passes on %s', async (file) => {
      const { feed, token } = await publishAndGrant(
        readFileSync(join(SAMPLES, file), 'utf8'),
        'application/xml',
        file,
      )
      await conforms(feed, token)
    })
  })
})
