import * as client from 'openid-client'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from '../support/browser.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { mailTo, oneTimeCode, smtpListener } from '../support/smtp-listener.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, registerSolarSavings } from '../support/third-party.js'
import { until } from '../support/wait.js'

/**
 * Extension 1 of the ESPI grant use case, in Debian's Chromium: a customer the utility knows, without an
 * online account, starts at the third party, creates the account from the sign-in page (account number,
 * a one-time code sent by a real SMTP exchange to the email address on file, a password), and goes on to
 * the consent page of the same grant.
 */
describe('self-registration during a grant', () => {
  const temp = tempSqlite()
  let smtp: Awaited<ReturnType<typeof smtpListener>>
  let server: RunningServer
  let browser: Browser
  let admin: string
  let config: client.Configuration
  const redirectUri = 'https://solar.example/callback'
  const offline = (who: string) => ({
    username: who,
    name: `${who} Hatter`,
    email: `${who}@example.org`,
    account_number: `ACCT-${who.toUpperCase()}`,
  })

  beforeAll(async () => {
    smtp = await smtpListener()
    ;({ server, admin } = await startWithAdmin(temp.target, {
      ...mailTo(smtp),
      CUSTODIAN_LOGIN_MAX_FAILURES_USER: '3',
    }))
    for (const who of ['mad', 'march']) {
      const made = await call(server.url, 'POST', '/v1/customers', { token: admin, body: offline(who) })
      expect(made.status, JSON.stringify(made.body)).toBe(201)
    }
    await call(server.url, 'POST', '/v1/customers/mad/usage-points', {
      token: admin,
      body: { description: 'Tea party meter', kind: 'electricity' },
    })
    ;({ config } = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: 'https://solar.example/notify',
      scope: 'FB=1_4_5;IntervalDuration=3600',
    }))
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server.stop()
    await smtp.close()
    temp.remove()
  })

  /** A page at the sign-in of a new authorization request, the third party's callback answered here. */
  const atSignIn = async (scope: string) => {
    const request = await authorizationRequest(config, redirectUri, scope)
    const page = await browser.newPage()
    await page.route('https://solar.example/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/plain', body: 'back at the third party' }),
    )
    await page.goto(request.url)
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    return { page, request }
  }

  const askForCode = async (page: Page, accountNumber: string) => {
    await page.getByRole('link', { name: 'Create one with your account number' }).click()
    await page.getByRole('heading', { name: 'Create your online account' }).waitFor()
    await page.getByLabel('Account number').fill(accountNumber)
    await page.getByRole('button', { name: 'Send me a code' }).click()
    await page.getByLabel('One-time code').waitFor()
  }

  const submitCode = async (page: Page, code: string, password: string) => {
    await page.getByLabel('One-time code').fill(code)
    await page.getByLabel('Choose a password (at least 8 characters)').fill(password)
    await page.getByLabel('The same password again').fill(password)
    const [response] = await Promise.all([
      page.waitForResponse(/\/register\/confirm$/),
      page.getByRole('button', { name: 'Create my account' }).click(),
    ])
    return response.status()
  }

  it('creates the account with the emailed code and continues to the consent page of the same grant', async () => {
    const { page, request } = await atSignIn('FB=4_5')
    await askForCode(page, 'ACCT-MAD')
    const mail = await until('the one-time code email', () =>
      smtp.received.find((m) => m.to === 'mad@example.org'),
    )
    expect(mail.subject).toBe('Your code to create your online account')
    expect(mail.text).toContain('the username mad')
    const code = oneTimeCode(mail)

    // A wrong code is refused, and the right one still works after it.
    expect(await submitCode(page, code === '000000' ? '111111' : '000000', 'tea at six always')).toBe(400)
    expect(await page.getByRole('alert').textContent()).toContain('That code is wrong or has expired')
    await submitCode(page, code, 'tea at six always')

    await page.getByRole('heading', { name: 'Share your energy data?' }).waitFor()
    expect(await page.textContent('main')).toContain('Solar Savings')
    await page.getByRole('button', { name: 'Approve' }).click()
    await page.waitForURL(/^https:\/\/solar\.example\/callback/)
    const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
    })
    expect(tokens.scope).toBe('FB=4_5')
    await page.close()

    // The account exists: the customer signs in with the username from the email and the chosen password.
    const session = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'mad', password: 'tea at six always' },
    })
    expect(session.status).toBe(201)
    // And the code cannot make a second one.
    const again = await atSignIn('FB=4')
    await askForCode(again.page, 'ACCT-MAD')
    expect(await submitCode(again.page, code, 'another password')).toBe(400)
    await again.page.close()
  })

  it('answers an unknown account number with the same words as a known one', async () => {
    const { page } = await atSignIn('FB=4')
    await askForCode(page, 'ACCT-NOBODY')
    expect(await page.getByRole('status').textContent()).toContain(
      'If this account number is one of ours and has no online account yet, we have sent a one-time code',
    )
    await page.close()
  })

  it('throttles codes asked for and tried, per account number', async () => {
    const { page } = await atSignIn('FB=4')
    // Limit 3: the code asked for, then two wrong tries; the third try is refused before it is checked.
    await askForCode(page, 'ACCT-MARCH')
    expect(await submitCode(page, '123456', 'a fine password')).toBe(400)
    expect(await submitCode(page, '654321', 'a fine password')).toBe(400)
    const mail = await until('the code for march', () =>
      smtp.received.find((m) => m.to === 'march@example.org'),
    )
    const code = oneTimeCode(mail)
    expect(await submitCode(page, code, 'a fine password')).toBe(429)
    expect(await page.getByRole('alert').textContent()).toContain('Too many attempts')
    await page.close()
  })
})
