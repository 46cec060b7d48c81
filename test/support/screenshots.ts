import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'

/**
 * The README's screenshots, in docs/screenshots/: written by the browser tests only when
 * CUSTODIAN_SCREENSHOTS is set (CUSTODIAN_SCREENSHOTS=1 npx vitest run test/e2e/…-browser.test.ts), so a
 * test run leaves the repository alone.
 */
const FOLDER = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))

export async function screenshot(page: Page, name: string): Promise<void> {
  if (!process.env.CUSTODIAN_SCREENSHOTS) return
  mkdirSync(FOLDER, { recursive: true })
  await page.screenshot({ path: `${FOLDER}${name}.png`, fullPage: true })
}
