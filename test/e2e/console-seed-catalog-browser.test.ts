import { readFileSync } from 'node:fs'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkPage, consoleSession, goTo } from '../support/console.js'
import { corpusPath } from '../support/corpus.js'
import { tempSqlite } from '../support/temp-store.js'

/** The access-control specification's own Turtle example, as its seed document prints it. */
const SEED = readFileSync(corpusPath('seeds/ib1-trust-framework-access-control.txt'), 'utf8')
const start = SEED.indexOf('@prefix dcterms:')
const EXAMPLE = SEED.slice(start, SEED.indexOf('\n.\n', start) + 3)
/** The same example made valid Turtle (the fixture's header says what was corrected). */
const CORRECTED = readFileSync(new URL('../fixtures/ib1-voltage.ttl', import.meta.url), 'utf8')

/**
 * Issue 18 asks the console to load the seed's Turtle, refused at its position, and a corrected one. This
 * needs the conformance corpus (test/support/corpus.ts), and is left out where it is absent.
 */
describe('the console loads the seed’s Turtle', () => {
  const temp = tempSqlite()
  let session: Awaited<ReturnType<typeof consoleSession>>
  let page: Page

  beforeAll(async () => {
    session = await consoleSession(temp.target)
    page = session.page
  })
  afterAll(async () => {
    await session?.browser.close()
    await session?.server.stop()
    temp.remove()
  })

  it('refuses the specification’s example at line 2, column 47, then loads the corrected catalog', async () => {
    await goTo(page, 'Catalog')
    await page.getByLabel(/^Name of the document/).fill('the seed example')
    await page.getByLabel('Turtle', { exact: true }).fill(EXAMPLE)
    await page.getByRole('button', { name: 'Load Turtle' }).click()
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      'the seed example:2:47: Expected declaration to end with a dot: a dot (.) is missing here',
    )
    await expect(page.getByTestId('turtle-excerpt').locator('mark').textContent()).resolves.toBe(
      '   2  @prefix ib1: <http://registry.ib1.org/ns/1.0#>',
    )
    // The caret stands under column 47, just past the end of the line where the dot belongs.
    const caret = (await page.getByTestId('turtle-excerpt').textContent())?.split('\n')[2] as string
    expect(caret.indexOf('^')).toBe('   2  '.length + 46)
    await expect(page.getByText('0 data service(s).').count()).resolves.toBe(1)
    await checkPage(page, 'catalog-seed-refused')

    await page.getByLabel('Turtle', { exact: true }).fill(CORRECTED)
    await page.getByRole('button', { name: 'Load Turtle' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: 'loaded 1 data service(s) and 1 licence interpretation(s) from the seed example' })
      .waitFor()
    await expect(page.getByRole('row', { name: /Supply voltage/ }).count()).resolves.toBe(1)
  })
})
