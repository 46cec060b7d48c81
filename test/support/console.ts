import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { newAuditablePage, seriousViolations } from './axe.js'
import { launchChromium } from './browser.js'
import { screenshot } from './screenshots.js'
import { startWithAdmin } from './server.js'

/**
 * The administrator's console in tests: signing in without a browser as a browser does (the sign-in form
 * first, for its CSRF token and the cookie it is bound to, then the form posted with both), and in one.
 */

/** `name=value` of the cookie `name` among a response's Set-Cookie headers ('' when none was set). */
export const cookieNamed = (response: Response, name: string) =>
  response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .find((c) => c.startsWith(`${name}=`)) ?? ''

/** The sign-in form's CSRF token and the sign-in cookie it is bound to. */
export async function signInForm(url: string) {
  const response = await fetch(`${url}/console/login`, { redirect: 'manual' })
  const csrf = /name="csrf" value="([^"]+)"/.exec(await response.text())?.[1] ?? ''
  return { csrf, cookie: cookieNamed(response, 'custodian_console_sign_in'), response }
}

/** Posts the sign-in form: its status, the session's Set-Cookie header and `cookie` ('' when none was set). */
export async function consoleSignIn(url: string, username: string, password: string) {
  const form = await signInForm(url)
  const response = await fetch(`${url}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
    body: new URLSearchParams({ username, password, csrf: form.csrf }).toString(),
    redirect: 'manual',
  })
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('custodian_console=')) ?? ''
  return { status: response.status, setCookie, cookie: cookieNamed(response, 'custodian_console') }
}

/** The page is accessible (axe: no serious or critical violation); with CUSTODIAN_SCREENSHOTS, saved as console-<name>.png. */
export async function checkPage(page: Page, name: string) {
  expect(await seriousViolations(page), name).toEqual([])
  await screenshot(page, `console-${name}`)
}

/** Signs in through the console's form in the browser (the form is checked too): the overview follows. */
export async function signInWithBrowser(page: Page, url: string, user: string, password: string) {
  await page.goto(`${url}/console`)
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor()
  await checkPage(page, 'sign-in')
  await page.getByLabel('Username').fill(user)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Overview' }).waitFor()
}

/** Follows an area's link in the console's navigation to its page. */
export async function goTo(page: Page, area: string) {
  await page
    .getByRole('navigation', { name: 'Console areas' })
    .getByRole('link', { name: area, exact: true })
    .click()
  await page.getByRole('heading', { name: area, level: 1, exact: true }).waitFor()
}

/** A server with its first administrator signed in to the console in Chromium, on a laptop-sized page. */
export async function consoleSession(db: string, env: Record<string, string> = {}) {
  const { server, admin } = await startWithAdmin(db, env)
  const browser = await launchChromium()
  const page = await newAuditablePage(browser, { viewport: { width: 1280, height: 800 } })
  page.setDefaultTimeout(10_000)
  await signInWithBrowser(page, server.url, 'admin', server.adminPassword as string)
  return { server, admin, browser, page }
}
