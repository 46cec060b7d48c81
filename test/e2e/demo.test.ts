import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../support/browser.js'
import { type RunningServer, startServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/** `custodian demo`, tried as a person would: from the sample third party's page to a connected account. */
describe('custodian demo', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    server = await startServer(
      temp.target,
      { CUSTODIAN_MAILBOX: join(temp.dir, 'mailbox'), CUSTODIAN_OUTBOX_POLL_MS: '50' },
      'demo',
    )
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server.stop()
    temp.remove()
  })

  it('prints where to start and who to sign in as', () => {
    expect(server.output()).toContain(`Demo: open ${server.url}/demo/third-party`)
    expect(server.output()).toContain('alice / alice-demo-password')
  })

  it('connects the sample third party through the utility’s consent page', async () => {
    const page = await browser.newPage()
    await page.goto(`${server.url}/demo/third-party`)
    await page.getByRole('button', { name: 'Connect my utility account' }).click()
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('alice-demo-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Share your energy data?' }).waitFor()
    expect(await page.getByRole('checkbox').count()).toBe(2)
    await page.getByRole('button', { name: 'Approve' }).click()
    await page.getByRole('heading', { name: 'Connected' }).waitFor()
    const text = (await page.textContent('main')) ?? ''
    expect(text).toMatch(
      /Authorization au_\S+, active, scope FB=4_5;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13/,
    )
    expect(text).not.toMatch(/Alice|alice@/)
    await page.close()
    // The customer's email about it lands in the mailbox folder.
    await expect
      .poll(() => readdirSync(join(temp.dir, 'mailbox')).length, { timeout: 10_000 })
      .toBeGreaterThan(0)
    // The notice to the third party goes to this very server: `custodian demo` allows its own host for it.
    await expect
      .poll(
        async () =>
          /Notifications received from the utility: (\d+)/.exec(
            await (await fetch(`${server.url}/demo/third-party`)).text(),
          )?.[1],
        { timeout: 10_000 },
      )
      .not.toBe('0')
    expect(server.output()).not.toContain('outbound request failed')
  })

  it('starts a grant at the utility: choose on the 3rd Party Access page, confirm at the third party’s request', async () => {
    const page = await browser.newPage()
    await page.goto(`${server.url}/account/access`)
    await page.getByLabel('Username').fill('alice')
    await page.getByLabel('Password').fill('alice-demo-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Authorize a third party' }).waitFor()
    await page.getByLabel('Third party', { exact: true }).selectOption({ label: 'Demo Energy Advisor' })
    const form = page.getByRole('region', { name: 'Authorize a third party' })
    await form.getByLabel('Home, electricity', { exact: true }).uncheck()
    await form.getByLabel('Access ends after').fill('2027-03-31')
    await page.getByRole('button', { name: 'Continue to the third party' }).click()

    // The third party asks for the authorization; alice is signed in already, and sees her own choices.
    await page.getByRole('heading', { name: 'Share your energy data?' }).waitFor()
    expect(await page.getByRole('status').textContent()).toContain(
      "the choices you made on your utility's 3rd Party Access page",
    )
    expect(await page.getByLabel('Home, gas', { exact: true }).isChecked()).toBe(true)
    expect(await page.getByLabel('Home, electricity', { exact: true }).isChecked()).toBe(false)
    expect(await page.getByLabel('Access ends after').inputValue()).toBe('2027-03-31')
    await page.getByRole('button', { name: 'Approve' }).click()
    await page.getByRole('heading', { name: 'Connected' }).waitFor()
    expect(await page.textContent('main')).toContain('access ends after 31 March 2027')

    await page.goto(`${server.url}/account/access`)
    const sections = await page.locator('section[aria-labelledby^="h-au_"]').allTextContents()
    expect(
      sections.some(
        (text) => text.includes('MetersHome, gas') && text.includes('Access ends after March 31, 2027.'),
      ),
    ).toBe(true)
    await page.close()
  })

  it('shows the public third-party list, and the mailbox to an administrator', async () => {
    const page = await browser.newPage()
    await page.goto(`${server.url}/third-parties`)
    expect(
      await page
        .getByRole('row', { name: /Demo Energy Advisor/ })
        .first()
        .textContent(),
    ).toContain('in good standing')
    await page.goto(`${server.url}/admin/mailbox`)
    await page.getByLabel('Username').fill('admin')
    await page.getByLabel('Password').fill(server.adminPassword as string)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('heading', { name: 'Mailbox' }).waitFor()
    await expect
      .poll(async () => {
        await page.reload()
        return page
          .getByRole('heading', { name: 'Your data sharing with Demo Energy Advisor was granted' })
          .count()
      })
      .toBeGreaterThan(0)
    expect(await page.textContent('main')).toContain('To alice@demo.invalid')
    await page.close()
  })
})
