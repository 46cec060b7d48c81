import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ownPostgresCluster } from '../support/pg-cluster.js'
import { call, type RunningServer, startServer, userWithSession } from '../support/server.js'
import { until } from '../support/wait.js'

const MAX_STALENESS_S = 2
const NODE_ENV = {
  CUSTODIAN_MAX_STALENESS: String(MAX_STALENESS_S),
  CUSTODIAN_CHANGE_POLL_MS: '100',
}

interface Answer {
  node: number
  at: number
  status: number
  /** A 503 because the node's view grew older than maxStaleness (not because a write failed). */
  stale: boolean
}

/**
 * Two nodes on a PostgreSQL cluster of the test's own, asked to check access without pause while the cluster
 * is stopped and started again: no node exits, no answer is a 500 (503 with Retry-After while the store is
 * away), LISTEN is active again afterwards, and a revocation made on one node stops the other's "allowed"
 * answers within maxStaleness.
 */
describe('a PostgreSQL restart under load', () => {
  let cluster: Awaited<ReturnType<typeof ownPostgresCluster>>
  const nodes: RunningServer[] = []

  beforeAll(async () => {
    cluster = await ownPostgresCluster()
    nodes.push(await startServer(cluster.url, NODE_ENV))
    nodes.push(await startServer(cluster.url, NODE_ENV))
  })
  afterAll(async () => {
    for (const node of nodes) await node.stop()
    cluster?.remove()
  })

  const listeners = async () => {
    const client = new pg.Client({ connectionString: cluster.url })
    await client.connect()
    const { rows } = await client.query(
      "select count(*)::int as n from pg_stat_activity where query ilike 'LISTEN custodian_changes%'",
    )
    await client.end()
    return (rows[0] as { n: number }).n
  }

  it('keeps both nodes up, answers 503 not 500 while it is away, and catches up when it is back', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer]
    const admin = (
      await call(a.url, 'POST', '/v1/sessions', { body: { user: 'admin', password: a.adminPassword } })
    ).body.token as string
    for (const [method, path, body] of [
      ['POST', '/v1/permissions', { id: 'open_door', name: 'Open door', description: 'Opens the door' }],
      ['POST', '/v1/roles', { id: 'resident', name: 'Resident', description: 'Lives here' }],
      ['PUT', '/v1/roles/resident/entitlements/open_door'],
      ['POST', '/v1/resources', { id: 'house1', description: 'House one' }],
    ] as const) {
      expect((await call(a.url, method, path, { token: admin, body })).status).toBeLessThan(300)
    }
    const sam = await userWithSession(a.url, admin, 'sam')
    const grant = await call(a.url, 'PUT', '/v1/users/sam/roles/resident', { token: admin })
    expect(grant.status).toBe(200)
    const check = (url: string) =>
      call(url, 'POST', '/v1/check', {
        token: sam,
        body: { permission: 'open_door', resource: 'house1', min_revision: 0 },
      })
    await until('node B to see the grant', async () => (await check(b.url)).status === 200)
    await until('both nodes to listen', async () => (await listeners()) >= 2)

    const answers: Answer[] = []
    const problems: string[] = []
    let running = true
    const load = async (node: number, url: string) => {
      while (running) {
        try {
          const answer = await check(url)
          const stale = answer.status === 503 && String(answer.body.detail).includes('maxStaleness')
          answers.push({ node, at: Date.now(), status: answer.status, stale })
          if (answer.status === 503 && !answer.headers.get('retry-after'))
            problems.push('a 503 without Retry-After')
          if (answer.status >= 500 && answer.status !== 503) problems.push(JSON.stringify(answer.body))
        } catch (error) {
          problems.push(`node ${node} did not answer: ${(error as Error).message}`)
          return
        }
      }
    }
    const loads = [load(0, a.url), load(0, a.url), load(1, b.url), load(1, b.url)]

    await until('answers before the restart', () => answers.length > 20)
    cluster.stop()
    const stoppedAt = Date.now()
    // Away for longer than maxStaleness: both nodes stop deciding from what they last read.
    for (const node of [0, 1])
      await until(`node ${node} to refuse as stale`, () => answers.some((x) => x.node === node && x.stale))
    const staleAfter = stoppedAt + 1000 * (MAX_STALENESS_S + 1)
    expect(answers.filter((x) => x.at > staleAfter && x.status === 200)).toEqual([])
    cluster.start()

    // The revocation is made on node A once it can write again; node B must stop allowing within maxStaleness.
    let revokedAt = 0
    await until('the revocation to be written', async () => {
      const revoke = await call(a.url, 'DELETE', '/v1/users/sam/roles/resident', { token: admin })
      if (revoke.status === 200) revokedAt = Date.now()
      return revoke.status === 200
    })
    await until('node B to refuse', () =>
      answers.some((x) => x.node === 1 && x.at > revokedAt && x.status === 403),
    )
    await until('LISTEN to be active again on both nodes', async () => (await listeners()) >= 2, 40_000)
    running = false
    await Promise.all(loads)

    expect(problems).toEqual([])
    const lateAllowed = answers.filter((x) => x.status === 200 && x.at > revokedAt + MAX_STALENESS_S * 1000)
    expect(lateAllowed).toEqual([])
    for (const node of nodes) expect(await fetch(`${node.url}/health/ready`).then((r) => r.status)).toBe(200)
  }, 120_000)
})
