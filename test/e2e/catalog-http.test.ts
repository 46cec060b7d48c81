import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const VOLTAGE = readFileSync(new URL('../fixtures/ib1-voltage.ttl', import.meta.url), 'utf8')
const SERVICE = 'https://data.example.com/supply-voltage/v0'
const ROLE = (name: string) => `https://directory.estf.ib1.org/scheme/electricity/role/${name}`
const IB1 = 'http://registry.ib1.org/ns/1.0#'

/** The catalog over HTTP: a Registry serving its licence interpretations, an administrator, a data provider. */
describe('the trust-framework catalog over HTTP', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let registry: Server
  let registryUrl: string

  beforeAll(async () => {
    // The Registry's well-known document, with the old grant names the Harvester replaces.
    registry = createServer((request, response) => {
      if (request.url !== '/licences.ttl') return response.writeHead(404).end()
      response
        .writeHead(200, { 'content-type': 'text/turtle' })
        .end(`@prefix ib1: <https://registry.core.trust.ib1.org/ns/1.0#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://registry.example/licence/open-reporting> a ib1:LicenceInterpretation ;
  dcterms:license <legal-text/open-reporting> ;
  ib1:grant ib1:use_any, ib1:combine_any .`)
    })
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
    registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/licences.ttl`
    ;({ server, admin } = await startWithAdmin(temp.target, { CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1' }))
  })
  afterAll(async () => {
    await server.stop()
    await new Promise((resolve) => registry.close(resolve))
    temp.remove()
  })

  const turtle = (body: string, token = admin, name = 'voltage.ttl') =>
    fetch(`${server.url}/v1/catalog?name=${name}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/turtle' },
      body,
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }))

  it('loads Turtle from the body and from the Registry’s URL, replacing old names', async () => {
    expect((await turtle(VOLTAGE)).status).toBe(200)
    const fetched = await call(server.url, 'POST', '/v1/catalog/fetches', {
      token: admin,
      body: { url: registryUrl },
    })
    expect(fetched.status).toBe(200)
    expect(fetched.body.summary).toBe(
      `loaded 0 data service(s) and 1 licence interpretation(s) from ${registryUrl}; 2 old name(s) replaced`,
    )
    const exported = await fetch(`${server.url}/v1/catalog`, {
      headers: { authorization: `Bearer ${admin}` },
    })
    expect(exported.headers.get('content-type')).toMatch(/^text\/turtle/)
    const text = await exported.text()
    // Relative IRIs resolve against the document's URL; old names come out new.
    expect(text).toContain(`<https://registry.example/licence/open-reporting> a ib1:LicenceInterpretation;`)
    expect(text).toContain(
      `dcterms:license <http://127.0.0.1:${new URL(registryUrl).port}/legal-text/open-reporting>`,
    )
    expect(text).toContain('ib1:grant ib1:GrantUseAny, ib1:GrantCombineAny')
  })

  it('refuses a bad document with its position, and anyone but an administrator', async () => {
    const bad = await turtle(
      VOLTAGE.replace('dcterms:license <https://registry', 'dcterms:license https://registry'),
    )
    expect(bad.status).toBe(400)
    expect(bad.body.detail).toMatch(
      /^voltage\.ttl:12:19: Unexpected "https:\/\/registry.*": a URL is written in angle brackets, <…>$/,
    )
    expect((await turtle(VOLTAGE, 'cst_nobody.nothing')).status).toBe(401)
  })

  it('decides for participants over HTTP, with reasons, licence, grants and obligations', async () => {
    for (const [id, roles, understands] of [
      ['grid-reports', [ROLE('report-provider')], [`${IB1}ObligationAttribution`]],
      ['energy-app', [ROLE('energy-service-provider')], []],
    ] as const) {
      const put = await call(server.url, 'PUT', `/v1/participants/${id}`, {
        token: admin,
        body: { roles, understands },
      })
      expect(put.status).toBe(200)
    }
    const allowed = await call(server.url, 'POST', '/v1/catalog/decisions', {
      token: admin,
      body: { participant: 'grid-reports', service: SERVICE },
    })
    expect(allowed.body).toMatchObject({
      allowed: true,
      licence: 'https://registry.estf.ib1.org/scheme/electricity/licence/voltage-reporting/1.4',
      obligations: [`${IB1}ObligationAttribution`],
    })
    expect(allowed.body.grants).toContain(`${IB1}GrantUseAny`)
    const denied = await call(server.url, 'POST', '/v1/catalog/decisions', {
      token: admin,
      body: { participant: 'energy-app', service: SERVICE },
    })
    expect(denied.body).toMatchObject({ allowed: false, grants: [], obligations: [] })
    expect(denied.body.reason).toMatch(
      /^energy-app holds none of the roles .* requires: any one of .*report-provider, .*archiver would do/,
    )
    const listed = await call(server.url, 'GET', '/v1/participants', { token: admin })
    expect((listed.body.items as { id: string }[]).map((p) => p.id).sort()).toEqual([
      'energy-app',
      'grid-reports',
    ])
    const audit = await call(server.url, 'GET', '/v1/audit?limit=1000', { token: admin })
    expect(
      (audit.body.items as { action: string; resource: string; outcome: string }[]).filter(
        (i) => i.action === 'catalog.check',
      ),
    ).toEqual([
      expect.objectContaining({ resource: `grid-reports -> ${SERVICE}`, outcome: 'allowed' }),
      expect.objectContaining({ resource: `energy-app -> ${SERVICE}`, outcome: 'denied' }),
    ])
    expect(
      (await call(server.url, 'POST', '/v1/catalog/decisions', { body: { participant: 'x', service: 'y' } }))
        .status,
    ).toBe(401)
  })
})
