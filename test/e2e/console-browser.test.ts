import { join } from 'node:path'
import * as client from 'openid-client'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readMailbox } from '../../src/notify/mailbox.js'
import { newAuditablePage } from '../support/axe.js'
import { launchChromium } from '../support/browser.js'
import { checkPage, goTo, signInWithBrowser } from '../support/console.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, discoverAs, registerSolarSavings } from '../support/third-party.js'
import { until } from '../support/wait.js'

/**
 * The administrator's console in Debian's Chromium: an administrator creates a user, gives it a resource role
 * and explains a decision for it; registers a third party and suspends it (its tokens stop working); filters
 * authorizations (by customer, status and end date) and terminates one (the customer is emailed why); verifies the audit chain. A holder of
 * user_admin alone sees and uses the user pages and nothing else. axe-core checks every page it visits.
 * With CUSTODIAN_SCREENSHOTS=1 it saves the main pages in docs/screenshots/ for the README.
 */
describe('the administrator console', () => {
  const temp = tempSqlite()
  const mailbox = join(temp.dir, 'mailbox')
  let server: RunningServer
  let admin: string
  let browser: Browser
  let page: Page
  const redirectUri = 'https://solar.example/callback'

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await call(server.url, method, path, { token: admin, ...(body ? { body } : {}) })
    expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBeLessThan(300)
    return response.body
  }

  const signIn = (p: Page, user: string, password: string) => signInWithBrowser(p, server.url, user, password)

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target, {
      CUSTODIAN_MAILBOX: mailbox,
      CUSTODIAN_OUTBOX_POLL_MS: '50',
    }))
    // House Mate: a cook may use the oven of any room of house1.
    await api('POST', '/v1/permissions', { id: 'control_oven', name: 'Oven', description: 'Use the oven' })
    await api('POST', '/v1/roles', { id: 'cook', name: 'Cook', description: 'Cooks' })
    await api('PUT', '/v1/roles/cook/entitlements/control_oven')
    await api('POST', '/v1/resources', { id: 'house1', description: 'House 1' })
    await api('POST', '/v1/resources', { id: 'kitchen1', description: 'Kitchen', parent: 'house1' })
    await api('POST', '/v1/resource-roles', { id: 'house1_cook', role: 'cook', resource: 'house1' })
    // ESPI: two customers who each authorized Solar Savings.
    const { config } = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: 'https://solar.example/notify',
      scope: 'FB=1_4_5;IntervalDuration=3600',
    })
    for (const [who, name] of [
      ['alice', 'Alice Liddell'],
      ['bob', 'Bob Builder'],
    ] as const) {
      await api('POST', '/v1/customers', {
        username: who,
        name,
        email: `${who}@example.org`,
        account_number: `ACCT-${who}`,
        password: `${who} password`,
      })
      await api('POST', `/v1/customers/${who}/usage-points`, { description: 'Meter', kind: 'electricity' })
      const flow = await authorizationRequest(config, redirectUri, 'FB=1_4_5;IntervalDuration=3600')
      await authorizeAsCustomer(server.url, flow.url, redirectUri, {
        username: who,
        password: `${who} password`,
      })
    }
    browser = await launchChromium()
    page = await newAuditablePage(browser, { viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(10_000)
    await signIn(page, 'admin', server.adminPassword as string)
    await checkPage(page, 'overview')
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    temp.remove()
  })

  it('creates a user, gives it a resource role, and explains a decision for it with its path', async () => {
    await goTo(page, 'Users')
    await page.getByLabel('User id').fill('carol')
    await page.getByLabel('Name', { exact: true }).fill('Carol Cook')
    await page.getByRole('button', { name: 'Create user' }).click()
    await page.getByRole('status').filter({ hasText: 'created user carol' }).waitFor()
    await page.getByLabel('Find a user').fill('cook')
    await page.getByRole('button', { name: 'Find' }).click()
    await page.getByText(/^1 of \d+ user\(s\) matching “cook”\.$/).waitFor()
    await expect(page.getByRole('link', { name: 'carol', exact: true }).count()).resolves.toBe(1)
    await checkPage(page, 'users')

    await page.getByRole('link', { name: 'carol' }).click()
    await page.getByRole('heading', { name: 'User carol' }).waitFor()
    await page.getByLabel('Resource role', { exact: true }).fill('house1_cook')
    await page.getByRole('button', { name: 'Give resource role' }).click()
    await page.getByRole('status').filter({ hasText: 'carol' }).waitFor()
    await expect(page.getByRole('row', { name: /Resource roles/ }).textContent()).resolves.toContain(
      'house1_cook',
    )
    await page.getByLabel('Kind').selectOption('password')
    await page.getByLabel('New value').fill('carol password 1')
    await page.getByRole('button', { name: 'Set credential' }).click()
    await page.getByRole('status').filter({ hasText: 'password' }).waitFor()
    await checkPage(page, 'user')
    expect((await api('GET', '/v1/users/carol')).resource_roles).toEqual(['house1_cook'])

    await goTo(page, 'Explain a decision')
    await page.getByLabel('User', { exact: true }).fill('carol')
    await page.getByLabel('Permission', { exact: true }).fill('control_oven')
    await page.getByLabel('Resource', { exact: true }).fill('kitchen1')
    await page.getByRole('button', { name: 'Explain' }).click()
    await page.getByRole('heading', { name: 'Decision', exact: true }).waitFor()
    await expect(page.locator('.allowed').textContent()).resolves.toBe('Allowed')
    // The API's reason, with the path: the ancestor the resource role is bound to.
    const reason = await page.getByTestId('reason').textContent()
    const api_ = await call(server.url, 'POST', '/v1/checks', {
      token: admin,
      body: { questions: [{ user: 'carol', permission: 'control_oven', resource: 'kitchen1' }] },
    })
    expect(reason).toBe((api_.body.answers as { reason: string }[])[0]?.reason)
    expect(reason).toMatch(/^carol holds control_oven on house1\b.*kitchen1/)
    await checkPage(page, 'explain')
  })

  it('registers a third party, shows its secret once, and suspends it: its tokens stop working', async () => {
    await goTo(page, 'Third parties')
    await page.getByLabel('Name', { exact: true }).fill('Heat Pump Advisor')
    await page.getByLabel('What it does').fill('Sizes heat pumps')
    await page.getByLabel('Redirect URIs').fill('https://heat.example/callback')
    await page.getByLabel('Notification URI').fill('https://heat.example/notify')
    await page.getByLabel('Widest scope').fill('FB=1_4_5;IntervalDuration=3600')
    await checkPage(page, 'third-parties')
    await page.getByRole('button', { name: 'Register third party' }).click()
    await page.getByRole('heading', { name: 'Third party registered' }).waitFor()
    const secret = (await page.getByTestId('client-secret').textContent()) as string
    const clientId = (await page
      .getByRole('row', { name: /Client id/ })
      .locator('code')
      .textContent()) as string
    await checkPage(page, 'third-party-registered')

    const config = await discoverAs(server.url, clientId, secret)
    const { access_token } = await client.clientCredentialsGrant(config, { scope: 'FB=4' })
    const ownRegistration = () =>
      fetch(`${server.url}/espi/1_1/resource/ApplicationInformation`, {
        headers: { authorization: `Bearer ${access_token}` },
      })
    expect((await ownRegistration()).status).toBe(200)

    await goTo(page, 'Third parties')
    expect(await page.content()).not.toContain(secret)
    await page.getByRole('button', { name: 'Suspend Heat Pump Advisor' }).click()
    await page.getByRole('status').filter({ hasText: clientId }).waitFor()
    await expect(page.getByRole('row', { name: /Heat Pump Advisor/ }).textContent()).resolves.toContain(
      'suspended',
    )
    expect((await ownRegistration()).status).toBeGreaterThanOrEqual(400)
    await expect(client.clientCredentialsGrant(config, { scope: 'FB=4' })).rejects.toThrow()
  })

  it('filters authorizations and terminates one with a reason the customer is emailed', async () => {
    await goTo(page, 'Authorizations')
    await expect(page.getByText('2 of 2 authorization(s).').count()).resolves.toBe(1)
    // Both end later than the day before today: none ends by then.
    await page
      .getByLabel('Ends on or before')
      .fill(new Date(Date.now() - 86_400_000).toISOString().slice(0, 10))
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByText('0 of 2 authorization(s).').waitFor()
    await page.getByLabel('Ends on or before').fill('')
    await page.getByLabel('Customer').selectOption({ label: 'Alice Liddell (alice)' })
    await page.getByLabel('Status').selectOption('active')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByText('1 of 2 authorization(s).').waitFor()
    await checkPage(page, 'authorizations')
    await page.getByLabel('Reason').fill('the customer reported a lost meter login')
    await page.getByRole('button', { name: 'Terminate' }).click()
    await page.getByRole('status').filter({ hasText: 'terminated by an administrator' }).waitFor()
    // Still filtered on Alice: her one authorization, now terminated.
    await page.getByText('0 of 2 authorization(s).').waitFor()
    const mail = await until('the email to alice', async () =>
      (await readMailbox(mailbox)).find(
        (m) => m.to.includes('alice@example.org') && /terminated/.test(m.subject),
      ),
    )
    expect(mail.text).toContain('the customer reported a lost meter login')
    const listed = (await api('GET', '/v1/authorizations')).items as { status: string }[]
    expect(listed.map((a) => a.status).sort()).toEqual(['active', 'terminated'])
  })

  it('shows the audit log newest first, filtered, with every console action in it, and verifies the chain', async () => {
    await goTo(page, 'Audit log')
    await page.getByLabel('Actor').fill('admin')
    await page.getByLabel('Action').fill('user.')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.getByRole('heading', { name: 'Audit log' }).waitFor()
    const actions = await page.locator('tbody tr td:nth-child(4)').allTextContents()
    // Newest first: the password set after the grant after the creation, all made in the console.
    expect(actions.slice(0, 3)).toEqual(['user.set_credential', 'user.grant', 'user.create'])
    await page.getByRole('button', { name: 'Verify the chain' }).click()
    await expect(page.getByTestId('verification').textContent()).resolves.toMatch(
      /^Chain intact: \d+ record\(s\) verified from genesis\.$/,
    )
    await checkPage(page, 'audit')
  })

  it('shows a holder of user_admin alone the user pages only, and lets it use them', async () => {
    await api('POST', '/v1/permissions', { id: 'user_admin', name: 'User admin', description: 'Users' })
    await userWithSession(server.url, admin, 'ursula')
    await api('PUT', '/v1/users/ursula/roles/user_admin')
    const own = await newAuditablePage(browser)
    await signIn(own, 'ursula', 'ursula password')
    const links = await own
      .getByRole('navigation', { name: 'Console areas' })
      .getByRole('link')
      .allTextContents()
    expect(links).toEqual(['Overview', 'Users'])
    await goTo(own, 'Users')
    await own.getByLabel('User id').fill('dave')
    await own.getByLabel('Name', { exact: true }).fill('Dave')
    await own.getByRole('button', { name: 'Create user' }).click()
    await own.getByRole('status').filter({ hasText: 'created user dave' }).waitFor()
    for (const path of [
      '/console/third-parties',
      '/console/authorizations',
      '/console/audit',
      '/console/explain',
    ]) {
      const response = await own.goto(`${server.url}${path}`)
      expect(response?.status(), path).toBe(403)
      await own.getByRole('heading', { name: 'Not allowed' }).waitFor()
    }
    await checkPage(own, 'not-allowed')
    await own.close()
  })

  it('signs out: the session ends, and the console asks to sign in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor()
    await page.goto(`${server.url}/console/users`)
    await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor()
  })
})
