import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeViolations, newAuditablePage, seriousViolations } from '../support/axe.js'
import { launchChromium } from '../support/browser.js'
import { type RunningServer, startServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/** The start page and the browsable API documentation, as a newcomer opens them in Chromium. */
describe('the start page and /docs', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    server = await startServer(temp.target)
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    temp.remove()
  })

  it('links the docs, the account page and health from /, without signing in', async () => {
    const response = await fetch(`${server.url}/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/html')
    const text = await response.text()
    for (const href of ['/docs', '/openapi.json', '/account/access', '/health'])
      expect(text).toContain(`href="${href}"`)
    // Metrics are not public: named, not linked.
    expect(text).not.toContain('href="/metrics"')
  })

  it('renders the OpenAPI document at /docs, reached from the start page', async () => {
    const start = await newAuditablePage(browser)
    await start.goto(`${server.url}/`)
    expect(describeViolations(await seriousViolations(start))).toBe('')
    await start.close()
    const page = await browser.newPage()
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(error.message))
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text())
    })
    await page.goto(`${server.url}/`)
    await page.getByRole('link', { name: 'API documentation' }).click()
    await page.waitForURL(`${server.url}/docs`)
    // Every area of the API is listed; opening one shows its operations, rendered from the document.
    await page
      .locator('.opblock-tag', { hasText: /^check/ })
      .first()
      .click()
    await page
      .locator('.opblock-summary-path', { hasText: /^\/v1\/check$/ })
      .first()
      .waitFor()
    expect(await page.locator('.opblock-tag').count()).toBeGreaterThan(10)
    await expect(page.locator('.info .title').textContent()).resolves.toContain('Custodian')
    expect(problems).toEqual([])
    await page.close()
  })
})
