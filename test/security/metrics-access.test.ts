import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { tempSqlite } from '../support/temp-store.js'

const METRICS_TOKEN = 'the-scrapers-own-token'

/**
 * /metrics tells how busy a node is, how far behind its store and how many logins fail: it answers only the
 * holder of the metricsToken setting (a scraper, not a user: an administrator's session token is not it),
 * and not at all while that setting is empty.
 */
describe('who may read /metrics', () => {
  const temp = tempSqlite()
  let custodian: Custodian
  let app: FastifyInstance
  let adminToken: string

  const scrape = (authorization?: string) =>
    app.inject({ method: 'GET', url: '/metrics', headers: authorization ? { authorization } : {} })

  beforeAll(async () => {
    custodian = await Custodian.open({
      db: temp.target,
      follow: false,
      config: { logLevel: 'silent', metricsToken: METRICS_TOKEN },
    })
    const first = await custodian.ensureAdmin()
    if (!first) throw new Error('the store already has an administrator')
    adminToken = (await custodian.login(first.userId, first.password)).token
    app = (await buildApp(custodian, { logger: createLogger('silent') })) as unknown as FastifyInstance
  })
  afterAll(async () => {
    await app?.close()
    await custodian?.close()
    temp.remove()
  })

  it('refuses a request without a token, with another scheme, or with a wrong token (401)', async () => {
    for (const authorization of [undefined, `Basic ${btoa(`x:${METRICS_TOKEN}`)}`, 'Bearer not-it']) {
      const response = await scrape(authorization)
      expect(response.statusCode, String(authorization)).toBe(401)
      expect(response.headers['www-authenticate']).toBe('Bearer realm="custodian"')
      expect(response.body).not.toContain('custodian_decisions_total')
    }
  })

  it("refuses an administrator's session token: the metrics token is a credential of its own", async () => {
    const response = await scrape(`Bearer ${adminToken}`)
    expect(response.statusCode).toBe(401)
    expect(response.json().detail).toContain('metrics token')
  })

  it('answers the metrics token', async () => {
    const response = await scrape(`Bearer ${METRICS_TOKEN}`)
    expect(response.statusCode).toBe(200)
    expect(response.body).toContain('custodian_decisions_total')
  })

  it('answers 404 to everyone while metricsToken is empty', async () => {
    custodian.config.metricsToken = ''
    try {
      for (const authorization of [undefined, `Bearer ${METRICS_TOKEN}`, 'Bearer ']) {
        const response = await scrape(authorization)
        expect(response.statusCode).toBe(404)
        expect(response.json().detail).toContain('set metricsToken')
      }
    } finally {
      custodian.config.metricsToken = METRICS_TOKEN
    }
  })
})
