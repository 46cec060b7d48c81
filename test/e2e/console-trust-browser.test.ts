import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newAuditablePage } from '../support/axe.js'
import { checkPage, consoleSession, goTo, signInWithBrowser } from '../support/console.js'
import { call, type RunningServer, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const VOLTAGE = readFileSync(new URL('../fixtures/ib1-voltage.ttl', import.meta.url), 'utf8')
const SERVICE = 'https://data.example.com/supply-voltage/v0'
const ROLE = (name: string) => `https://directory.estf.ib1.org/scheme/electricity/role/${name}`
/** The same catalog with one URL written without its angle brackets: line 12, column 19. */
const BROKEN = VOLTAGE.replace('dcterms:license <https://registry', 'dcterms:license https://registry')
/** A second catalog, served over HTTP for the URL load. */
const SUBSTATION = `@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix ib1: <http://registry.ib1.org/ns/1.0#> .
<https://data.example.com/substation-load/v1> a dcat:DataService ;
  dcterms:title "Substation load" ;
  ib1:roleRequiredToAccess <${ROLE('analyst')}> ;
  dcterms:license <https://registry.estf.ib1.org/scheme/electricity/licence/voltage-reporting/1.4> .
`

const OWNER = 'EU.EORI.NL000000003'
const CARRIER = 'EU.EORI.NL000000001'

/** The owner's evidence: the carrier may read every container but C-13, from a minute ago for a day. */
const evidence = () => {
  const now = Math.floor(Date.now() / 1000)
  return {
    delegationEvidence: {
      notBefore: now - 60,
      notOnOrAfter: now + 86_400,
      policyIssuer: OWNER,
      target: { accessSubject: CARRIER },
      policySets: [
        {
          maxDelegationDepth: 1,
          target: { environment: { licenses: ['ISHARE.0001'] } },
          policies: [
            {
              target: {
                resource: { type: 'CONTAINER.DATA', identifiers: ['*'], attributes: ['*'] },
                actions: ['ISHARE.READ'],
              },
              rules: [
                { effect: 'Permit' },
                {
                  effect: 'Deny',
                  target: { resource: { type: 'CONTAINER.DATA', identifiers: ['C-13'], attributes: ['*'] } },
                },
              ],
            },
          ],
        },
      ],
    },
  }
}

/**
 * The console's catalog and trust areas in Debian's Chromium: Turtle refused at its line and column, then
 * loaded; a URL load under the outbound rules; participants and an access check; delegation evidence stored,
 * read and removed; associations, a party and classified services recorded; trust decisions shown input by
 * input. axe-core checks every page.
 */
describe('the console: catalog and trust', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let documents: Server
  let documentsUrl: string
  let browser: Browser
  let page: Page

  const alert = () => page.getByRole('alert')
  const status = () => page.getByRole('status')

  beforeAll(async () => {
    documents = createServer((_request, response) =>
      response.writeHead(200, { 'content-type': 'text/turtle' }).end(SUBSTATION),
    )
    await new Promise<void>((resolve) => documents.listen(0, '127.0.0.1', resolve))
    documentsUrl = `http://127.0.0.1:${(documents.address() as AddressInfo).port}/substation.ttl`
    ;({ server, admin, browser, page } = await consoleSession(temp.target, {
      CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1',
    }))
  })
  afterAll(async () => {
    await browser?.close()
    documents?.close()
    await server?.stop()
    temp.remove()
  })

  it('refuses Turtle with an error at its line and column, storing nothing, then loads the corrected text', async () => {
    await goTo(page, 'Catalog')
    await page.getByLabel('Turtle', { exact: true }).fill(BROKEN)
    await page.getByRole('button', { name: 'Load Turtle' }).click()
    await expect(alert().textContent()).resolves.toMatch(
      /^pasted Turtle:12:19: Unexpected "https:\/\/registry.*": a URL is written in angle brackets, <…>$/,
    )
    // The spot, marked in the text, which is there again to be fixed.
    const excerpt = page.getByTestId('turtle-excerpt')
    await expect(excerpt.locator('mark').textContent()).resolves.toMatch(
      /^ {2}12 {2}\s+dcterms:license https:/,
    )
    await expect(page.getByText('the parser stopped at line 12, column 19').count()).resolves.toBe(1)
    await expect(page.getByLabel('Turtle', { exact: true }).inputValue()).resolves.toBe(BROKEN)
    await expect(page.getByText('0 data service(s).').count()).resolves.toBe(1)
    await checkPage(page, 'catalog-refused')
    // The HTTP route's problem document carries the same position as fields.
    const problem = await fetch(`${server.url}/v1/catalog?name=broken.ttl`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/turtle' },
      body: BROKEN,
    })
    expect(problem.status).toBe(400)
    expect(await problem.json()).toMatchObject({
      line: 12,
      column: 19,
      detail: expect.stringMatching(/^broken\.ttl:12:19: /),
    })

    await page.getByLabel('Turtle', { exact: true }).fill(VOLTAGE)
    await page.getByRole('button', { name: 'Load Turtle' }).click()
    await status()
      .filter({ hasText: 'loaded 1 data service(s) and 1 licence interpretation(s) from pasted Turtle' })
      .waitFor()
    const row = page.getByRole('row', { name: /Supply voltage/ })
    await expect(row.textContent()).resolves.toContain(ROLE('report-provider'))
    await expect(
      page.getByRole('row', { name: /voltage-reporting\/1.4\/legal-text/ }).textContent(),
    ).resolves.toContain('ib1:ObligationAttribution')
    await checkPage(page, 'catalog')
    // The listings the page shows are operations, over HTTP too.
    const services = await call(server.url, 'GET', '/v1/catalog/services', { token: admin })
    expect(services.body.items).toEqual([
      {
        url: SERVICE,
        title: 'Supply voltage',
        roles: [ROLE('report-provider'), ROLE('archiver')],
        licence: 'https://registry.estf.ib1.org/scheme/electricity/licence/voltage-reporting/1.4',
      },
    ])
    const licences = await call(server.url, 'GET', '/v1/catalog/licences', { token: admin })
    expect((licences.body.items as { obligations: string[] }[])[0]?.obligations).toEqual([
      'http://registry.ib1.org/ns/1.0#ObligationAttribution',
    ])
  })

  it('loads from a URL only where the outbound rules allow a connection', async () => {
    await page.getByLabel(/Or load from a URL/).fill('http://169.254.169.254/latest/catalog.ttl')
    await page.getByRole('button', { name: 'Load from URL' }).click()
    await expect(alert().textContent()).resolves.toBe(
      'the catalog document could not be fetched from http://169.254.169.254/latest/catalog.ttl',
    )
    await page.getByLabel(/Or load from a URL/).fill(documentsUrl)
    await page.getByRole('button', { name: 'Load from URL' }).click()
    await status()
      .filter({ hasText: `from ${documentsUrl}` })
      .waitFor()
    await expect(page.getByText('2 data service(s).').count()).resolves.toBe(1)
    await page.getByRole('button', { name: 'Remove Substation load' }).click()
    await status().filter({ hasText: 'substation-load' }).waitFor()
    await expect(page.getByText('1 data service(s).').count()).resolves.toBe(1)
  })

  it('records participants and what they understand, and answers an access check with its reason', async () => {
    await goTo(page, 'Participants and access')
    const save = async (id: string, roles: string[], understands: string) => {
      await page.getByLabel('Participant id').fill(id)
      await page.getByLabel('Roles (URLs, one a line)').fill(roles.join('\n'))
      await page.getByLabel('Obligations it understands').fill(understands)
      await page.getByRole('button', { name: 'Save participant' }).click()
      await status().filter({ hasText: id }).waitFor()
    }
    await save('grid-reports', [ROLE('report-provider'), ROLE('analyst')], 'ib1:ObligationAttribution')
    await save('careless', [ROLE('archiver')], '')
    await expect(page.getByRole('row', { name: /grid-reports/ }).textContent()).resolves.toContain(
      'ib1:ObligationAttribution',
    )

    const check = async (participant: string) => {
      await page.getByLabel('Participant', { exact: true }).selectOption(participant)
      await page.getByLabel('Data service', { exact: true }).selectOption(SERVICE)
      await page.getByRole('button', { name: 'Check access' }).click()
      await page.getByRole('heading', { name: 'Decision' }).waitFor()
      return {
        outcome: await page.getByTestId('access-outcome').textContent(),
        reason: await page.getByTestId('access-reason').textContent(),
      }
    }
    const allowed = await check('grid-reports')
    expect(allowed.outcome).toBe('Allowed')
    expect(allowed.reason).toMatch(/^grid-reports holds .*report-provider, which .* accepts/)
    await expect(page.getByRole('row', { name: /^Obligations/ }).textContent()).resolves.toContain(
      'ib1:ObligationAttribution',
    )
    await checkPage(page, 'participants')
    const denied = await check('careless')
    expect(denied.outcome).toBe('Denied')
    expect(denied.reason).toMatch(/^careless does not understand the obligation ib1:ObligationAttribution/)
    // The same answer as the API's, and audited as the API's is.
    const api = await call(server.url, 'POST', '/v1/catalog/decisions', {
      token: admin,
      body: { participant: 'careless', service: SERVICE },
    })
    expect(api.body.reason).toBe(denied.reason)
  })

  it('stores delegation evidence for an issuer, lists it, reads it and removes it', async () => {
    await goTo(page, 'Delegation policies')
    await page.getByLabel('Delegation evidence (JSON)').fill('{"delegationEvidence": ')
    await page.getByRole('button', { name: 'Store evidence' }).click()
    await expect(alert().textContent()).resolves.toMatch(/^the delegation evidence: not JSON: /)
    await page.getByLabel('Delegation evidence (JSON)').fill(JSON.stringify(evidence(), null, 2))
    await page.getByRole('button', { name: 'Store evidence' }).click()
    await status().filter({ hasText: OWNER }).waitFor()
    await page.getByRole('link', { name: OWNER }).click()
    await page.getByRole('heading', { name: `Policies of ${OWNER}` }).waitFor()
    await page.getByRole('link', { name: CARRIER }).click()
    await page.getByRole('heading', { name: `Evidence of ${OWNER} for ${CARRIER}` }).waitFor()
    const shown = JSON.parse((await page.getByTestId('evidence').textContent()) as string)
    const untimed = (e: { delegationEvidence: object }) => ({
      ...e.delegationEvidence,
      notBefore: 0,
      notOnOrAfter: 0,
    })
    expect(untimed(shown)).toEqual(untimed(evidence()))
    await checkPage(page, 'delegation-policies')
    const issuers = await call(server.url, 'GET', '/v1/delegation-issuers', { token: admin })
    expect(issuers.body.items).toEqual([{ issuer: OWNER, subjects: [CARRIER] }])
    // Removed, and stored again for the trust decisions that follow.
    await page.getByRole('button', { name: `Remove the policy of ${OWNER} for ${CARRIER}` }).click()
    await status().filter({ hasText: CARRIER }).waitFor()
    await expect(page.getByRole('link', { name: OWNER }).count()).resolves.toBe(0)
    await page.getByLabel('Delegation evidence (JSON)').fill(JSON.stringify(evidence()))
    await page.getByRole('button', { name: 'Store evidence' }).click()
    await page.getByRole('link', { name: OWNER }).waitFor()
  })

  it('records associations, a party and classified services, and shows the trust matrix in effect', async () => {
    await goTo(page, 'Trust network')
    const association = async (id: string, parent = '') => {
      await page.getByLabel('Association id', { exact: true }).fill(id)
      await page.getByLabel(/^Parent association/).fill(parent)
      await page.getByRole('button', { name: 'Save association' }).click()
      await status().filter({ hasText: id }).waitFor()
    }
    await association('bdi')
    await association('port', 'bdi')
    await page.getByLabel('Party id', { exact: true }).fill(CARRIER)
    await page.getByLabel(/^Active memberships/).fill('port')
    await page.getByLabel('Level of assurance').selectOption('high')
    await page.getByLabel('Reputation', { exact: true }).selectOption('high')
    await page.getByRole('button', { name: 'Record party' }).click()
    await status().filter({ hasText: CARRIER }).waitFor()
    const classify = async (id: string, classification: string, owner = '', type = '') => {
      await page.getByLabel('Data service id', { exact: true }).fill(id)
      await page.getByLabel('Its association').fill('port')
      await page.getByLabel('Classification', { exact: true }).fill(classification)
      await page.getByLabel(/^Data owner/).fill(owner)
      await page.getByLabel(/^Resource type/).fill(type)
      await page.getByRole('button', { name: 'Classify service' }).click()
      await status().filter({ hasText: id }).waitFor()
    }
    await classify('container-contents', 'medium')
    await classify('shipper-data', 'high', OWNER, 'CONTAINER.DATA')
    await expect(page.getByRole('row', { name: new RegExp(`^${CARRIER}`) }).textContent()).resolves.toMatch(
      /port \(active\).*high.*high \(the console/,
    )
    const matrix = await page.getByRole('row', { name: /^port the BDI default high/ }).textContent()
    expect(matrix).toContain('association ≥ high and reputation ≥ high and a granular authorization')
    await checkPage(page, 'trust')
    const parties = await call(server.url, 'GET', '/v1/trust/parties', { token: admin })
    expect(parties.body.items).toEqual([
      {
        id: CARRIER,
        assurance: 'high',
        reputation: { level: 'high', source: 'the console', at: expect.any(Number) },
        memberships: [{ association: 'port', status: 'active' }],
      },
    ])
    const services = await call(server.url, 'GET', '/v1/trust/services', { token: admin })
    expect(services.body.items).toEqual([
      { id: 'container-contents', association: 'port', classification: 'medium' },
      {
        id: 'shipper-data',
        association: 'port',
        classification: 'high',
        owner: OWNER,
        resource_type: 'CONTAINER.DATA',
      },
    ])
    const listed = await call(server.url, 'GET', '/v1/trust/associations', { token: admin })
    expect((listed.body.items as { id: string; parent?: string }[]).map((a) => [a.id, a.parent])).toEqual([
      ['bdi', undefined],
      ['port', 'bdi'],
    ])
  })

  it('answers a trust decision showing the question, each input, what was found and the reason', async () => {
    await page.getByRole('link', { name: 'Ask a trust decision' }).click()
    await page.getByRole('heading', { name: 'Trust decision', level: 1 }).waitFor()
    const decide = async (party: string, service: string, identifiers = '') => {
      await page.getByLabel('Party', { exact: true }).fill(party)
      await page.getByLabel('Data service', { exact: true }).selectOption(service)
      await page.getByLabel(/^Identifiers/).fill(identifiers)
      await page.getByRole('button', { name: 'Decide' }).click()
      await page.getByRole('heading', { name: 'Decision', exact: true }).waitFor()
      const rows = await page.getByTestId('findings').locator('tbody tr').allTextContents()
      return { outcome: await page.getByTestId('trust-outcome').textContent(), rows }
    }
    const allowed = await decide(CARRIER, 'shipper-data', 'C-1')
    expect(allowed.outcome).toBe('Allowed')
    expect(allowed.rows).toEqual([
      'associationhighhigh (member of port)yes',
      expect.stringMatching(/^reputationhighhigh \(from the console at .*\)yes$/),
      expect.stringMatching(
        /^authorization.*the register’s evidence from EU\.EORI\.NL000000003: permittedyes$/,
      ),
    ])
    const question = async (name: string) =>
      page.getByRole('row', { name: new RegExp(`^${name}`) }).textContent()
    await expect(question('Classification of the service')).resolves.toBe('Classification of the servicehigh')
    await expect(question('Matrix applied')).resolves.toBe('Matrix appliedthe matrix of the BDI default')
    await expect(question('Identifiers')).resolves.toBe('IdentifiersC-1')
    await checkPage(page, 'trust-decision')

    const denied = await decide(CARRIER, 'shipper-data', 'C-13')
    expect(denied.outcome).toBe('Denied')
    expect(denied.rows[2]).toMatch(/a Deny rule \(rule 2\) overrides the Permit.*no$/)
    await expect(page.getByTestId('trust-reason').textContent()).resolves.toMatch(
      /^EU\.EORI\.NL000000001 does not meet what high data requires under the matrix of the BDI default: authorization/,
    )
  })

  it('keeps the catalog and trust pages from an administrator of users alone', async () => {
    await call(server.url, 'POST', '/v1/permissions', {
      token: admin,
      body: { id: 'user_admin', name: 'User admin', description: 'Users' },
    })
    await userWithSession(server.url, admin, 'ursula')
    await call(server.url, 'PUT', '/v1/users/ursula/roles/user_admin', { token: admin })
    const own = await newAuditablePage(browser)
    await signInWithBrowser(own, server.url, 'ursula', 'ursula password')
    const links = await own
      .getByRole('navigation', { name: 'Console areas' })
      .getByRole('link')
      .allTextContents()
    expect(links).toEqual(['Overview', 'Users'])
    for (const path of [
      '/console/catalog',
      '/console/participants',
      '/console/delegation-policies',
      '/console/trust',
      '/console/trust/decision',
    ]) {
      const response = await own.goto(`${server.url}${path}`)
      expect(response?.status(), path).toBe(403)
    }
    // Nor may it use their forms, with a CSRF token of its own session: refused, nothing done.
    const csrf = (await own.locator('input[name=csrf]').first().inputValue()) as string
    for (const [path, form] of [
      ['/console/trust/associations', { id: 'rogue' }],
      ['/console/participants', { id: 'rogue', roles: ROLE('analyst') }],
      ['/console/catalog/turtle', { source: 'rogue', turtle: SUBSTATION }],
      ['/console/delegation-policies', { evidence: JSON.stringify(evidence()) }],
    ] as const) {
      const response = await own.request.post(`${server.url}${path}`, { form: { csrf, ...form } })
      expect(response.status(), path).toBe(403)
    }
    const associations = await call(server.url, 'GET', '/v1/trust/associations', { token: admin })
    expect((associations.body.items as { id: string }[]).map((a) => a.id)).toEqual(['bdi', 'port'])
    const catalog = await call(server.url, 'GET', '/v1/catalog/services', { token: admin })
    expect(catalog.body.items).toHaveLength(1)
    // Nor the operations behind them.
    const token = await call(server.url, 'POST', '/v1/sessions', {
      body: { user: 'ursula', password: 'ursula password' },
    })
    for (const path of ['/v1/trust/parties', '/v1/trust/services', '/v1/catalog/services'])
      expect((await call(server.url, 'GET', path, { token: token.body.token as string })).status, path).toBe(
        403,
      )
    await own.close()
  })
})
