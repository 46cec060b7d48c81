import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_DAYS, demoReading } from '../../src/demo/demo-readings.js'
import { readEspi } from '../../src/greenbutton/espi-reader.js'
import { describeViolations, newAuditablePage, seriousViolations } from '../support/axe.js'
import { launchChromium } from '../support/browser.js'
import { CORPUS } from '../support/corpus.js'
import { screenshot } from '../support/screenshots.js'
import { call, type RunningServer, startServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

const HOUR = 3600
const DAY = 86_400
const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10)
// Only the schema validation needs the conformance corpus; everything else runs without it.
const SCHEMA = resolve(CORPUS, 'data/greenbutton/schema/greenbutton.xsd')

/**
 * Issue 17, "The demo shows data" and "The customer sees and takes their own data", in a browser: the demo
 * third party charts alice's usage right after the grant, her data page lists its fetches, and her
 * Download My Data file holds exactly her readings for the period.
 */
describe('custodian demo: the customer’s data', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let browser: Browser
  let page: Page
  /** Alice's usage points, as her own API listing names them. */
  let usagePoints: string[] = []
  /** The days the demo third party received readings for, as its page says. */
  let received = ''
  // Two whole days that the demo's fourteen days of readings cover, wherever in today the test runs.
  const today = Math.floor(Date.now() / 1000 / DAY) * DAY
  const period = { from: day(today - 2 * DAY), to: day(today - DAY) }
  const expected = () =>
    usagePoints
      .flatMap((up) =>
        Array.from({ length: 48 }, (_, i) => today - 2 * DAY + i * HOUR).map((start) => [
          start,
          demoReading(up, start),
        ]),
      )
      .sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number))

  const download = async (format: 'xml' | 'csv') => {
    await page.goto(`${server.url}/account/data`)
    await page.getByLabel('From').fill(period.from)
    await page.getByLabel('To (included)').fill(period.to)
    await page.getByLabel(format === 'xml' ? 'Green Button XML' : 'CSV (spreadsheet)').check()
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download' }).click(),
    ])
    expect(file.suggestedFilename()).toBe(`my-energy-data-${period.from}-${period.to}.${format}`)
    return readFile(await file.path(), 'utf8')
  }

  beforeAll(async () => {
    server = await startServer(
      temp.target,
      { CUSTODIAN_MAILBOX: join(temp.dir, 'mailbox'), CUSTODIAN_OUTBOX_POLL_MS: '50' },
      'demo',
    )
    browser = await launchChromium()
    page = await newAuditablePage(browser, { viewport: { width: 900, height: 900 } })
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    temp.remove()
  })

  it('shows the demo third party alice’s usage right after the grant', async () => {
    await page.goto(`${server.url}/demo/third-party`)
    await page.getByRole('button', { name: 'Connect my utility account' }).click()
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('alice-demo-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('button', { name: 'Approve' }).click()
    await page.getByRole('heading', { name: 'Your electricity use' }).waitFor()
    // Both meters, every hour of the demo's days up to the last whole hour.
    const text = (await page.textContent('main')) ?? ''
    expect(text).toContain(`${2 * DEMO_DAYS * 24} hourly readings received`)
    received = /received, (\d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2})/.exec(text)?.[1] ?? ''
    expect(received).not.toBe('')
    expect(await page.locator('svg[role="img"] rect').count()).toBeGreaterThanOrEqual(DEMO_DAYS)
    await screenshot(page, 'demo-third-party-data')
    expect(describeViolations(await seriousViolations(page))).toBe('')

    const login = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'alice', password: 'alice-demo-password' },
    })
    const mine = await call(server.url, 'GET', '/v1/me/authorizations', { token: login.body.token as string })
    const [grant] = mine.body.items as { usagePoints: { id: string }[] }[]
    usagePoints = (grant?.usagePoints ?? []).map((u) => u.id)
    expect(usagePoints).toHaveLength(2)
  })

  it('lists the third party’s fetches on alice’s data page, with what each third party can see now', async () => {
    // Signed in already: the sign-in for the grant serves the account pages too.
    await page.goto(`${server.url}/account/access`)
    await page.getByRole('link', { name: /what each third party can see and has fetched/ }).click()
    await page.getByRole('heading', { name: 'Your data', level: 1 }).waitFor()
    // The fetch log is written within the audit flush interval: the page shows it on a reload soon after.
    const history = page.getByRole('table', { name: 'Demo Energy Advisor' })
    await until('the fetch in alice’s access history', async () => {
      if ((await history.count()) > 0) return true
      await page.reload()
      return undefined
    })
    const row = (await history.getByRole('row').nth(1).textContent()) ?? ''
    expect(row).toContain('all shared data (batch)')
    expect(row).toContain(received)
    expect(row).toMatch(/\d+(\.\d)? kB/)
    const now =
      (await page.getByRole('region', { name: 'What each third party can see now' }).textContent()) ?? ''
    expect(now).toContain('Demo Energy Advisor')
    expect(now).toContain('Hourly electricity use, covering')
    expect(now).toContain(`It can see your readings from ${received.slice(0, 10)} on.`)
    await screenshot(page, 'access-history')
    expect(describeViolations(await seriousViolations(page))).toBe('')
  })

  it('downloads exactly alice’s readings for the period, as Green Button XML and as CSV', async () => {
    const xml = await download('xml')
    const { entries } = await readEspi([xml])
    const readings = entries
      .flatMap((e) =>
        e.content.kind === 'IntervalBlock' && 'readings' in e.content
          ? e.content.readings.map((r) => [r.start, r.value])
          : [],
      )
      .sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number))
    expect(readings).toEqual(expected())
    expect(entries.filter((e) => e.content.kind === 'UsagePoint')).toHaveLength(2)

    const csv = (await download('csv')).trim().split('\n')
    expect(csv[0]).toBe('usage_point,start,duration,value,cost,quality')
    expect(csv.slice(1).sort()).toEqual(
      usagePoints
        .flatMap((up) =>
          Array.from({ length: 48 }, (_, i) => today - 2 * DAY + i * HOUR).map(
            (start) => `${up},${new Date(start * 1000).toISOString()},3600,${demoReading(up, start)},,`,
          ),
        )
        .sort(),
    )
  })

  it('answers a bad period with a page naming it', async () => {
    const response = await page.goto(
      `${server.url}/account/download?format=xml&from=2026-02-30&to=2026-03-01`,
    )
    expect(response?.status()).toBe(400)
    expect(await page.getByRole('alert').textContent()).toBe('from: "2026-02-30" is not a date (YYYY-MM-DD)')
  })

  it.skipIf(!existsSync(SCHEMA))(`validates the download against espi.xsd (corpus: ${SCHEMA})`, async () => {
    const { validateGreenButton } = await import('../support/xmllint.js')
    const validation = await validateGreenButton(await download('xml'))
    expect(validation.errors).toBe('')
    expect(validation.valid).toBe(true)
  })
})
