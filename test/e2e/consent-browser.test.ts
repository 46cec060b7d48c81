import * as client from 'openid-client'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readMailbox } from '../../src/notify/mailbox.js'
import { describeViolations, newAuditablePage, seriousViolations } from '../support/axe.js'
import { launchChromium } from '../support/browser.js'
import { ALICE_BODY } from '../support/customers.js'
import { screenshot } from '../support/screenshots.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, discoverAs } from '../support/third-party.js'
import { until } from '../support/wait.js'

/** Fails naming each serious or critical axe-core violation of the page as it is now. */
const expectAccessible = async (page: Page) => {
  const violations = await seriousViolations(page)
  expect(violations, describeViolations(violations)).toEqual([])
}

/** The customer's login, consent and account pages, walked in Debian's Chromium as a customer would. */
describe('the consent flow in a browser', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let browser: Browser
  let admin: string
  let config: client.Configuration
  const redirectUri = 'https://solar.example/callback'
  const meters: Record<string, string> = {}
  const party = 'Solar <b>Savings</b> & Co'
  const mailbox = `${temp.dir}/mailbox`

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target, {
      CUSTODIAN_MAILBOX: mailbox,
      CUSTODIAN_UTILITY_NAME: 'Northwind Power',
      CUSTODIAN_UTILITY_COLOUR: '#1d6b3a',
      CUSTODIAN_UTILITY_LOGO:
        "data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20width='40'%20height='40'%3E%3Ccircle%20cx='20'%20cy='20'%20r='18'%20fill='%23ffd23f'/%3E%3C/svg%3E",
    }))
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    for (const [description, kind] of [
      ['Home, electricity', 'electricity'],
      ['Garage meter', 'gas'],
    ]) {
      const made = await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
        token: admin,
        body: { description, kind },
      })
      meters[description as string] = made.body.id as string
    }
    const registered = await call(server.url, 'POST', '/v1/third-parties', {
      token: admin,
      body: {
        name: party,
        redirect_uris: [redirectUri],
        notify_uri: 'https://solar.example/notify',
        scope: 'FB=1_4_5_15;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13',
      },
    })
    config = await discoverAs(
      server.url,
      registered.body.client_id as string,
      registered.body.client_secret as string,
    )
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server.stop()
    temp.remove()
  })

  /** A page in the customer's locale, the third party's callback answered here (its site is not on this machine). */
  const customerPage = async (locale = 'en-GB') => {
    const page = await newAuditablePage(browser, { locale })
    await page.route('https://solar.example/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the third party' }),
    )
    return page
  }

  it('signs in, shows the stored terms in plain language, approves one meter until a day, inclusive', async () => {
    const { url, codeVerifier, state } = await authorizationRequest(config, redirectUri, 'FB=4_5')
    const page = await customerPage()
    await page.goto(url)

    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    expect(await page.getByRole('banner').textContent()).toContain('Northwind Power')
    // The third party's name is shown as text, never as markup.
    expect(await page.locator('main p').first().textContent()).toContain(
      `${party} asks to receive your energy data. Sign in to your Northwind Power account`,
    )
    expect(await page.locator('main b').count()).toBe(0)
    await expectAccessible(page)
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('alice password')
    await page.getByRole('button', { name: 'Sign in' }).click()

    await page.getByRole('heading', { name: 'Share your energy data?' }).waitFor()
    const main = (await page.textContent('main')) ?? ''
    expect(main).toContain('in good standing')
    expect(main).toContain('It will not receive your name, email, username or account number.')
    // The request said FB=4_5; the grant stores the allowance's interval and 13 months too: all are shown.
    expect(await page.getByRole('list').textContent()).toBe('Hourly electricity use')
    expect(main).toContain('The last 13 months, updated monthly.')
    // The scope string itself only behind "technical terms", closed.
    expect(await page.locator('main').innerText()).not.toContain('FB=')
    expect(await page.getByRole('banner').textContent()).toContain('Signed in as Alice Liddell')
    // The meter's description already names its kind: not repeated.
    expect(await page.getByLabel('Home, electricity', { exact: true }).isChecked()).toBe(true)
    // Approve is the primary action, Deny the secondary.
    expect(await page.getByRole('button', { name: 'Approve' }).getAttribute('class')).toBe('primary')
    expect(await page.getByRole('button', { name: 'Deny' }).getAttribute('class')).toBeNull()
    await expectAccessible(page)
    await screenshot(page, 'consent')

    await page.getByLabel('Garage meter (gas)').uncheck()
    await page.getByLabel('Access ends after').fill('2027-06-30')
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
        usagePointIds: [meters['Home, electricity']],
        // Inclusive of the day chosen: the Authorization ends as the next day begins.
        ends: '2027-07-01T00:00:00.000Z',
        scope: 'FB=4_5;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13',
        status: 'active',
      }),
    ])

    // One sign-in: the account pages know her already.
    await page.goto(`${server.url}/account/access`)
    await page.getByRole('heading', { name: '3rd Party Access' }).waitFor()
    const section = page.getByRole('region', { name: party })
    expect(await section.textContent()).toContain('Access ends after 30 June 2027.')
    // The email says the same day in the same words.
    const granted = await until('the grant email', async () =>
      (await readMailbox(mailbox)).find((m) => m.subject.endsWith('was granted')),
    )
    expect(granted.text).toContain('access ends after 30 June 2027.')
    expect(granted.text).toContain(
      'What it receives: Hourly electricity use, covering the last 13 months, updated monthly.',
    )
    await page.close()
  })

  it('refuses a consent form posted without its CSRF token', async () => {
    const { url } = await authorizationRequest(config, redirectUri, 'FB=4')
    const page = await customerPage()
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

  it('changes and ends access on the 3rd Party Access page, after a confirmation, in dates of her locale', async () => {
    const page = await customerPage('de-DE')
    await page.goto(`${server.url}/account/access`)
    await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor()
    await expectAccessible(page)
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('alice password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: '3rd Party Access' }).waitFor()
    expect(await page.getByRole('banner').textContent()).toContain('Signed in as Alice Liddell')
    const section = () => page.getByRole('region', { name: party })
    expect(await section().textContent()).toContain('MetersHome, electricity')
    expect(await section().textContent()).toContain('Access ends after 30. Juni 2027.')
    expect(await section().textContent()).toContain('Hourly electricity use')
    await expectAccessible(page)

    await page.getByLabel(`New last day of access for ${party}`).fill('2027-12-31')
    await page.getByRole('button', { name: 'Change end date' }).click()
    await page.getByRole('status').waitFor()
    expect(await page.getByRole('status').textContent()).toBe(
      `You changed ${party}'s access to your energy data: access ends after 31. Dezember 2027.`,
    )
    expect(await section().textContent()).toContain('Access ends after 31. Dezember 2027.')
    await screenshot(page, 'account-changed')

    const day = await page.getByLabel(`Stop sharing with ${party} after`).inputValue()
    await page.getByRole('button', { name: 'End access…' }).click()
    // Nothing ends until the customer confirms.
    await page.getByRole('heading', { name: `End ${party}'s access?` }).waitFor()
    const records = async () => (await call(server.url, 'GET', '/v1/authorizations', { token: admin })).body
    expect((await records()).items).toEqual([expect.objectContaining({ status: 'active' })])
    await expectAccessible(page)
    await page.getByRole('button', { name: 'Yes, end access' }).click()
    await page.getByRole('status').waitFor()
    const said = (await page.getByRole('status').textContent()) ?? ''
    const shownDay = new Intl.DateTimeFormat('de-DE', { dateStyle: 'long', timeZone: 'UTC' }).format(
      new Date(`${day}T00:00:00Z`),
    )
    expect(said).toBe(
      `You ended ${party}'s access to your energy data: access ends after ${shownDay}. It may read data up to and including that day, and nothing after.`,
    )
    // Never an internal id or a raw timestamp.
    expect(await page.textContent('body')).not.toMatch(/au_|T\d\d:\d\d:\d\d/)
    expect(await section().textContent()).toContain('StatusEnded by you')
    expect((await records()).items).toEqual([
      expect.objectContaining({
        status: 'terminated',
        ends: new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString(),
      }),
    ])
    await expectAccessible(page)
    await screenshot(page, 'account-ended')

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor()
    await page.close()
  })

  it('goes straight to the consent page for a customer signed in on the account pages, and not once signed out', async () => {
    const page = await customerPage()
    await page.goto(`${server.url}/account/access`)
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('alice password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: '3rd Party Access' }).waitFor()

    const { url } = await authorizationRequest(config, redirectUri, 'FB=4_5')
    await page.goto(url)
    await page.getByRole('heading', { name: 'Share your energy data?' }).waitFor()
    expect(await page.getByRole('banner').textContent()).toContain('Signed in as Alice Liddell')
    await page.getByRole('button', { name: 'Deny' }).click()
    await page.waitForURL(/^https:\/\/solar\.example\/callback\?.*error=access_denied/)

    // Signing out of the account pages signs out of the OAuth pages too: the next grant asks again.
    await page.goto(`${server.url}/account/access`)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in to your account' }).waitFor()
    await page.goto((await authorizationRequest(config, redirectUri, 'FB=4_5')).url)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await page.close()
  })

  it('keeps the self-registration and third-party pages free of serious accessibility problems', async () => {
    const { url } = await authorizationRequest(config, redirectUri, 'FB=4')
    const page = await customerPage()
    await page.goto(url)
    await page.getByRole('link', { name: 'Create one with your account number' }).click()
    await page.getByRole('heading', { name: 'Create your online account' }).waitFor()
    await expectAccessible(page)
    await page.getByLabel('Account number').fill('ACCT-NOBODY')
    await page.getByRole('button', { name: 'Send me a code' }).click()
    await page.getByLabel('One-time code').waitFor()
    await expectAccessible(page)
    await page.goto(`${server.url}/third-parties`)
    await expectAccessible(page)
    await page.close()
  })
})
