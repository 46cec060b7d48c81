import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ownPostgresCluster } from '../support/pg-cluster.js'
import { type RunningServer, startServer } from '../support/server.js'

/**
 * While its store is away, a node tells anonymous callers that it is unavailable, not where its database is
 * or what the driver said (host, port, user): those go to the log.
 */
describe('a store outage told to callers', () => {
  let cluster: Awaited<ReturnType<typeof ownPostgresCluster>>
  let server: RunningServer
  let port: string

  beforeAll(async () => {
    cluster = await ownPostgresCluster()
    port = new URL(cluster.url).port
    server = await startServer(cluster.url, { CUSTODIAN_MAX_STALENESS: '3600' })
    cluster.stop()
  })
  afterAll(async () => {
    await server?.stop()
    cluster?.remove()
  })

  it('answers /health/ready and a request that needs the store without naming the database', async () => {
    const ready = await fetch(`${server.url}/health/ready`)
    expect(ready.status).toBe(503)
    const readiness = await ready.text()
    expect(JSON.parse(readiness)).toMatchObject({ status: 'unready', reason: 'the store cannot be reached' })

    const login = await fetch(`${server.url}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'admin', password: 'not the password' }),
    })
    expect(login.status).toBe(503)
    expect(login.headers.get('retry-after')).toBe('2')
    const problem = await login.text()
    expect(JSON.parse(problem)).toMatchObject({ code: 'Unavailable' })
    for (const text of [readiness, problem]) {
      expect(text).not.toContain(port)
      expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|postgres/i)
    }
  })
})
