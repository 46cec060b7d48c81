import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { newAuditablePage, seriousViolations } from './axe.js'
import { launchChromium } from './browser.js'
import { screenshot } from './screenshots.js'
import { startWithAdmin } from './server.js'

/**
 * Walking the administrator's console in a browser: signing in, moving between areas by the navigation, and
 * checking each page (axe-core finds nothing serious; with CUSTODIAN_SCREENSHOTS it is saved as
 * docs/screenshots/console-<name>.png).
 */

export async function checkPage(page: Page, name: string): Promise<void> {
  expect(await seriousViolations(page), name).toEqual([])
  await screenshot(page, `console-${name}`)
}

export async function signIn(page: Page, url: string, user: string, password: string): Promise<void> {
  await page.goto(`${url}/console`)
  await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor()
  await page.getByLabel('Username').fill(user)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('heading', { name: 'Overview' }).waitFor()
}

/** Follows the navigation's link to an area; its page's heading is the area's name. */
export async function goTo(page: Page, area: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Console areas' }).getByRole('link', { name: area }).click()
  await page.getByRole('heading', { name: area, level: 1 }).waitFor()
}

/** A server with its first administrator signed in to the console in Chromium, on a laptop-sized page. */
export async function consoleSession(db: string, env: Record<string, string> = {}) {
  const { server, admin } = await startWithAdmin(db, env)
  const browser = await launchChromium()
  const page = await newAuditablePage(browser, { viewport: { width: 1280, height: 800 } })
  page.setDefaultTimeout(10_000)
  await signIn(page, server.url, 'admin', server.adminPassword as string)
  return { server, admin, browser, page }
}
