import { performance } from 'node:perf_hooks'
import type * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { greenButtonFile, readingsEvery } from '../../bench/greenbutton-file.js'
import { readEspi } from '../../src/greenbutton/espi-reader.js'
import { ALICE_BODY } from '../support/customers.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { grantAccess, registerSolarSavings } from '../support/third-party.js'
import { validateGreenButton } from '../support/xmllint.js'

const MINUTE = 60

/**
 * The CMD suite's real-size files (issue 19, item 1): a week of 1-minute readings in one IntervalBlock,
 * 10,080 readings, published through the admin API and read back by an OAuth third party.
 */
describe('a week of 1-minute readings in one IntervalBlock', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let config: client.Configuration
  const redirectUri = 'https://solar.example/callback'
  const scope = 'FB=1_3_4_5_15'
  const readings = readingsEvery(MINUTE, 7)

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'minute meter', kind: 'electricity', id: 'up_week' },
    })
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

  it('imports, is served valid against espi.xsd, and every reading equals its source', async () => {
    const file = greenButtonFile(readings, { interval: MINUTE, block: 7 * 86_400 })
    const started = performance.now()
    const published = await fetch(`${server.url}/v1/usage-data?name=week.xml&usage_point=up_week`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/xml' },
      body: file,
    })
    const report = (await published.json()) as { stored: unknown }
    const seconds = (performance.now() - started) / 1000
    expect(published.status, JSON.stringify(report)).toBe(200)
    expect(report).toMatchObject({ readings: 10_080, changedReadings: 10_080, warnings: [] })
    expect(report.stored).toEqual({
      up_week: {
        readings: 10_080,
        changedReadings: 10_080,
        intervalBlocks: 1,
        meterReadings: 1,
        readingTypes: 1,
        summaries: 0,
        defaults: ['LocalTimeParameters of time zone UTC'],
      },
    })
    // The rate seen, for the record (the import benchmark measures it properly; this machine is shared).
    console.info(`a week of 1-minute readings: ${Math.round(10_080 / seconds)} readings/s through HTTP`)

    const grant = await grantAccess(server.url, config, redirectUri, scope, {
      username: 'alice',
      password: 'alice password',
      usagePoints: ['up_week'],
    })
    const get = async (url: string) => {
      const response = await fetch(url, { headers: { authorization: `Bearer ${grant.token}` } })
      expect(response.status).toBe(200)
      return response.text()
    }
    const batch = await get(`${server.url}/espi/1_1/resource/Batch/Subscription/${grant.subscription}`)
    expect(await validateGreenButton(batch)).toEqual({ valid: true, errors: '' })
    const { entries } = await readEspi([batch])
    const blocks = entries.filter((e) => e.content.kind === 'IntervalBlock')
    expect(blocks).toHaveLength(1)
    const expected = readings.map((r) => ({
      start: r.start,
      duration: MINUTE,
      value: r.value,
      cost: r.cost,
      qualities: [r.quality],
    }))
    const [block] = blocks
    expect(block?.content).toEqual({
      kind: 'IntervalBlock',
      interval: { start: readings[0]?.start, duration: 7 * 86_400 },
      readings: expected,
    })
    // The block on its own, at its self link, is the same.
    const single = await get(block?.self as string)
    expect(await validateGreenButton(single)).toEqual({ valid: true, errors: '' })
    expect((await readEspi([single])).entries[0]?.content).toEqual(block?.content)
  })
})
