import * as client from 'openid-client'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../support/browser.js'
import { ALICE_BODY } from '../support/customers.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, discoverAs } from '../support/third-party.js'

/** The customer's login and consent pages, walked in Debian's Chromium as a customer would. */
describe('the consent flow in a browser', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let browser: Browser
  let admin: string
  let config: client.Configuration
  const redirectUri = 'https://solar.example/callback'
  const meters: Record<string, string> = {}

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    await call(server.url, 'POST', '/v1/customers', {
      token: admin,
      body: ALICE_BODY,
    })
    for (const [description, kind] of [
      ['House meter', 'electricity'],
      ['Garage meter', 'gas'],
    ]) {
      const made = await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
        token: admin,
        body: { description, kind },
      })
      meters[description as string] = made.body.id as string
    }
    const party = await call(server.url, 'POST', '/v1/third-parties', {
      token: admin,
      body: {
        name: 'Solar <b>Savings</b> & Co',
        redirect_uris: [redirectUri],
        notify_uri: 'https://solar.example/notify',
        scope: 'FB=1_4_5;IntervalDuration=3600',
      },
    })
    const secret = party.body.client_secret as string
    config = await discoverAs(server.url, party.body.client_id as string, secret)
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server.stop()
    temp.remove()
  })

  it('signs in, chooses one meter and an end date, approves, and the third party gets a code for exactly that', async () => {
    const { url, codeVerifier, state } = await authorizationRequest(config, redirectUri, 'FB=4_5')
    const page = await browser.newPage()
    // The third party's site is not on this machine: answer its callback here.
    await page.route('https://solar.example/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the third party' }),
    )
    await page.goto(url)

    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true)
    // The third party's name is shown as text, never as markup.
    expect(await page.locator('main p').first().textContent()).toContain(
      'Solar <b>Savings</b> & Co asks to receive your energy data',
    )
    expect(await page.locator('main b').count()).toBe(0)
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('alice password')
    await page.getByRole('button', { name: 'Sign in' }).click()

    await page.getByRole('heading', { name: 'Share your energy data?' }).waitFor()
    expect(await page.textContent('main')).toContain('in good standing')
    expect(await page.textContent('main')).toContain(
      'It will not receive your name, email, username or account number.',
    )
    await page.getByLabel('Garage meter (gas)').uncheck()
    await page.getByLabel('Until (access ends at the start of this day)').fill('2027-06-30')
    await page.getByRole('button', { name: 'Approve' }).click()
    await page.waitForURL(/^https:\/\/solar\.example\/callback/)

    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
    })
    const id = (await client.tokenIntrospection(config, tokens.access_token)).authorization_id
    const records = await call(server.url, 'GET', '/v1/authorizations', { token: admin })
    expect(records.body.items).toEqual([
      expect.objectContaining({
        id,
        usagePointIds: [meters['House meter']],
        ends: '2027-06-30T00:00:00.000Z',
        status: 'active',
      }),
    ])
    await page.close()
  })

  it('refuses a consent form posted without its CSRF token', async () => {
    const { url } = await authorizationRequest(config, redirectUri, 'FB=4')
    const page = await browser.newPage()
    await page.goto(url)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await page.evaluate(
      "for (const input of document.querySelectorAll('input[name=csrf]')) input.value = 'forged'",
    )
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('alice password')
    const [response] = await Promise.all([
      page.waitForResponse(/\/login$/),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ])
    expect(response.status()).toBe(403)
    expect(await page.getByRole('alert').textContent()).toBe('The form expired: please sign in again.')
    await page.close()
  })

  it('lets the customer change and end access on the 3rd Party Access page', async () => {
    const page = await browser.newPage()
    await page.goto(`${server.url}/account/access`)
    await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor()
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('alice password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: '3rd Party Access' }).waitFor()
    // The authorization granted in the first test, with the third party's name as text.
    const section = page.getByRole('region', { name: 'Solar <b>Savings</b> & Co' })
    expect(await section.textContent()).toContain('Meters: House meter.')
    expect(await section.textContent()).toContain('Access ends: 2027-06-30.')

    await page.getByLabel('New end date for Solar <b>Savings</b> & Co').fill('2027-12-31')
    await page.getByRole('button', { name: 'Change end date' }).click()
    await page.getByRole('status').waitFor()
    expect(await page.getByRole('status').textContent()).toMatch(/now ends 2027-12-31T00:00:00.000Z/)
    expect(await page.getByRole('region', { name: 'Solar <b>Savings</b> & Co' }).textContent()).toContain(
      'Access ends: 2027-12-31.',
    )

    await page.getByRole('button', { name: 'Terminate' }).click()
    await page.getByRole('status').waitFor()
    expect(await page.getByRole('status').textContent()).toMatch(/terminated: access ends/)
    expect(await page.getByRole('region', { name: 'Solar <b>Savings</b> & Co' }).textContent()).toContain(
      'Status: terminated.',
    )
    const records = await call(server.url, 'GET', '/v1/authorizations', { token: admin })
    expect(records.body.items).toEqual([expect.objectContaining({ status: 'terminated' })])

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor()
    await page.close()
  })
})
