import { createRequire } from 'node:module'
import type { AxeResults } from 'axe-core'
import type { Browser, Page } from 'playwright-core'

const AXE_SCRIPT = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

export interface AxeViolation {
  id: string
  impact: string
  help: string
  /** The CSS selectors of the offending elements, to find them in the page. */
  targets: string[]
}

/**
 * A page axe can run in: Custodian's pages forbid every script by CSP, so the page bypasses it (only the
 * injected axe script benefits; the pages themselves have none).
 */
export const newAuditablePage = (browser: Browser, options: Parameters<Browser['newPage']>[0] = {}) =>
  browser.newPage({ ...options, bypassCSP: true })

/**
 * Runs axe-core in the page as it is now and answers its serious and critical violations (empty: clean).
 * The script is injected on each call because a navigation drops it. The page must come from
 * newAuditablePage (or a context with `bypassCSP: true`).
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ path: AXE_SCRIPT })
  // A string, so that TypeScript (no DOM library here) does not check browser code.
  const results = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as AxeResults
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact ?? '',
      help: v.help,
      targets: v.nodes.flatMap((n) => n.target.map(String)),
    }))
}

/** One line per violation, for an assertion message that says what to fix and where. */
export const describeViolations = (violations: AxeViolation[]) =>
  violations.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(', ')})`).join('\n')
