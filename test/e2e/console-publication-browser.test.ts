import { join } from 'node:path'
import * as client from 'openid-client'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { greenButtonFile, readingsEvery } from '../../bench/greenbutton-file.js'
import { checkPage, consoleSession, goTo as goToArea } from '../support/console.js'
import { notifyReceiver } from '../support/notify-receiver.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { call, type RunningServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, discoverAs, registerSolarSavings } from '../support/third-party.js'
import { until } from '../support/wait.js'

/**
 * The console's customers, publication and outbox in Debian's Chromium: an administrator creates a customer
 * and a usage point, uploads a Green Button file (the progress bar completes, the report and the chart
 * follow) and a bad CSV (refused at its line), rotates a third party's client secret (the old one stops
 * working), and retries a notice the third party refused once it accepts. axe-core checks every page.
 */
describe('the console: customers, publication and the outbox', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let browser: Browser
  let page: Page
  let receiver: Awaited<ReturnType<typeof notifyReceiver>>
  let party: Awaited<ReturnType<typeof registerSolarSavings>>
  const redirectUri = 'https://solar.example/callback'
  const scope = 'FB=1_4_5;IntervalDuration=3600'

  /** The id of Alice's one usage point, as the API lists it. */
  const alicesMeter = async () => {
    const listed = await call(server.url, 'GET', '/v1/customers', { token: admin })
    return (listed.body.items as { usage_points: { id: string }[] }[])[0]?.usage_points[0]?.id as string
  }

  const goTo = (area: string) => goToArea(page, area)

  beforeAll(async () => {
    receiver = await notifyReceiver()
    ;({ server, admin, browser, page } = await consoleSession(temp.target, {
      CUSTODIAN_MAILBOX: join(temp.dir, 'mailbox'),
      CUSTODIAN_OUTBOX_POLL_MS: '50',
      CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1',
    }))
    party = await registerSolarSavings(server.url, admin, { redirectUri, notifyUri: receiver.url, scope })
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    await receiver?.close()
    temp.remove()
  })

  it('creates a customer and a usage point, and finds the customer', async () => {
    await goTo('Customers')
    await page.getByLabel('Username', { exact: true }).fill('alice')
    await page.getByLabel('Full name').fill('Alice Liddell')
    await page.getByLabel('Email', { exact: true }).fill('alice@example.org')
    await page.getByLabel('Account number', { exact: true }).fill('ACCT-0001')
    await page.getByLabel('Password (optional)').fill('alice password')
    await page.getByRole('button', { name: 'Create customer' }).click()
    await page.getByRole('status').filter({ hasText: 'alice' }).waitFor()
    await page
      .getByRole('row', { name: /Alice Liddell/ })
      .getByLabel('Description')
      .fill('Kitchen meter')
    await page.getByRole('button', { name: 'Add usage point for Alice Liddell' }).click()
    await page.getByRole('link', { name: 'Kitchen meter' }).waitFor()
    await page.getByLabel('Find a customer').fill('kitchen')
    await page.getByRole('button', { name: 'Find' }).click()
    await page.getByText('1 of 1 customer(s) matching “kitchen”.').waitFor()
    await checkPage(page, 'customers')
    // Alice lets Solar Savings see that meter: its publication notices go to the (refusing) receiver.
    const flow = await authorizationRequest(party.config, redirectUri, scope)
    await authorizeAsCustomer(server.url, flow.url, redirectUri, {
      username: 'alice',
      password: 'alice password',
    })
  })

  it('uploads a Green Button file with a progress bar, then charts the usage point’s latest readings', async () => {
    await goTo('Publication')
    await page.getByLabel('Store every usage point of the file as').selectOption(await alicesMeter())
    const xml = greenButtonFile(readingsEvery(3600, 3), { interval: 3600 })
    await page.getByLabel('File (.xml or .csv)').setInputFiles({
      name: 'three-days.xml',
      mimeType: 'application/xml',
      buffer: Buffer.from(xml),
    })
    await page.getByRole('button', { name: 'Upload' }).click()
    await page.getByText('Uploaded three-days.xml (100%): imported.').waitFor()
    await expect(
      page.locator('#upload-progress').evaluate((bar) => (bar as unknown as { value: number }).value),
    ).resolves.toBe(100)
    await page
      .getByRole('status')
      .filter({ hasText: 'three-days.xml: 72 reading(s) for 1 usage point(s) imported.' })
      .waitFor()
    await expect(
      page
        .getByTestId('import-report')
        .getByRole('row', { name: /Kitchen meter/ })
        .textContent(),
    ).resolves.toMatch(/^Kitchen meter7272/)
    await checkPage(page, 'publication')

    await page.getByTestId('import-report').getByRole('link', { name: 'Kitchen meter' }).click()
    await page.getByRole('heading', { name: 'Usage point Kitchen meter' }).waitFor()
    const span = await page.getByTestId('span').locator('tbody td').allTextContents()
    expect(span.slice(2)).toEqual(['2016-01-01 00:00 UTC', '2016-01-03 23:00 UTC'])
    const chart = page.getByRole('img', { name: /^Daily electricity use, kWh\./ })
    await expect(chart.locator('rect').count()).resolves.toBe(3)
    await checkPage(page, 'usage-point')
  })

  it('refuses a bad file, naming its line', async () => {
    await goTo('Publication')
    const up = await alicesMeter()
    await page.getByLabel('File (.xml or .csv)').setInputFiles({
      name: 'bad.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        `usage_point,start,duration,value\n${up},2016-01-05T00:00:00Z,3600,10\n${up},yesterday,3600,5\n`,
      ),
    })
    await page.getByRole('button', { name: 'Upload' }).click()
    await page.getByText('Uploaded bad.csv (100%): refused.').waitFor()
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/^bad\.csv:3:\d+: /)
    await checkPage(page, 'publication-refused')
  })

  /** A page of another context, signed in as the administrator: the pages' own CSP holds (no bypass). */
  const strictPage = async (options: { javaScriptEnabled: boolean }) => {
    const context = await browser.newContext({ ...options, viewport: { width: 1280, height: 800 } })
    await context.addCookies(await page.context().cookies())
    const strict = await context.newPage()
    strict.setDefaultTimeout(10_000)
    await strict.goto(`${server.url}/console/publication`)
    return strict
  }
  const oneReading = (up: string, day: string) =>
    `usage_point,start,duration,value\n${up},${day}T00:00:00Z,3600,10\n`

  it('uploads under the page’s own content security policy, and without scripts from pasted text', async () => {
    const up = await alicesMeter()
    const scripted = await strictPage({ javaScriptEnabled: true })
    await scripted.getByLabel('File (.xml or .csv)').setInputFiles({
      name: 'one.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(oneReading(up, '2016-01-06')),
    })
    await scripted.getByRole('button', { name: 'Upload' }).click()
    await scripted.getByText('Uploaded one.csv (100%): imported.').waitFor()
    await scripted.context().close()

    const plain = await strictPage({ javaScriptEnabled: false })
    await plain.getByLabel('File name (.xml or .csv)').fill('pasted.csv')
    await plain.getByLabel('The file’s content').fill(oneReading(up, '2016-01-07'))
    await plain.getByRole('button', { name: 'Upload' }).click()
    await plain
      .getByRole('status')
      .filter({ hasText: 'pasted.csv: 1 reading(s) for 1 usage point(s) imported.' })
      .waitFor()
    await plain.context().close()
  })

  it('rotates a third party’s client secret, shown once: the old one stops working at once', async () => {
    const oldConfig = await discoverAs(server.url, party.clientId, party.clientSecret)
    await expect(client.clientCredentialsGrant(oldConfig, { scope: 'FB=4' })).resolves.toBeTruthy()
    await goTo('Third parties')
    await checkPage(page, 'third-parties-rotate')
    await page.getByRole('button', { name: 'Rotate secret of Solar Savings' }).click()
    await page.getByRole('heading', { name: 'New client secret' }).waitFor()
    const secret = (await page.getByTestId('client-secret').textContent()) as string
    await checkPage(page, 'client-secret')
    await expect(client.clientCredentialsGrant(oldConfig, { scope: 'FB=4' })).rejects.toThrow()
    const newConfig = await discoverAs(server.url, party.clientId, secret)
    await expect(client.clientCredentialsGrant(newConfig, { scope: 'FB=4' })).resolves.toBeTruthy()
    await goTo('Third parties')
    expect(await page.content()).not.toContain(secret)
  })

  it('shows a refused notice with its errors, and “retry now” delivers it once the receiver accepts', async () => {
    await goTo('Outbox')
    // Each upload's notice absorbed the one before (shown as replaced); the newest names every usage point.
    const notice = page
      .getByRole('row', { name: /data published/ })
      .filter({ hasText: 'Failed, retried later' })
    await until('the publication notice to have failed', async () => {
      await page.reload()
      return (await notice.count()) === 1
    })
    const id = (await notice.getAttribute('data-testid')) as string
    await expect(
      page
        .getByRole('row', { name: /data published/ })
        .filter({ hasText: 'Replaced by a newer notice' })
        .count(),
    ).resolves.toBe(2)
    await expect(notice.textContent()).resolves.toContain(`POST to ${receiver.url}`)
    await expect(notice.getByRole('link', { name: 'Kitchen meter' }).count()).resolves.toBe(1)
    await expect(notice.locator('ol.errors li').first().textContent()).resolves.toMatch(
      /UTC: the notification could not be sent to http:\/\/127\.0\.0\.1:\d+\/notify$/,
    )
    await checkPage(page, 'outbox')

    receiver.accept()
    const before = receiver.received.filter((r) => !r.startsWith('refused')).length
    await notice.getByRole('button', { name: /^Retry now/ }).click()
    await page.getByRole('status').filter({ hasText: 'is due now' }).waitFor()
    // Sooner than the worker's own next attempt (5 s after the first failure, then longer).
    const delivered = await until(
      'the retried notice to arrive',
      () => receiver.received.slice(before).find((r) => !r.startsWith('refused') && r.includes('UsagePoint')),
      3_000,
    )
    expect(delivered).toContain('BatchList')
    await until('the notice to leave the outbox', async () => {
      await page.reload()
      return (await page.getByTestId(id).count()) === 0
    })
  })
})
