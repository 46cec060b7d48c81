import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { CLI, call, startServer } from '../support/server.js'
import { storeBackends } from '../support/temp-store.js'
import { until } from '../support/wait.js'

const WRITERS = 8

/**
 * A node killed with SIGKILL while writes are in flight: every write it acknowledged is in the store after a
 * restart, and the audit log's hash chain still verifies. Writes it never answered may or may not be there.
 */
describe.each(storeBackends)('kill -9 during concurrent writes ($name)', ({ make }) => {
  it('keeps every acknowledged write and a verifiable audit log', async () => {
    const temp = await make()
    try {
      const first = await startServer(temp.target)
      const password = first.adminPassword as string
      const login = async (url: string) =>
        (await call(url, 'POST', '/v1/sessions', { body: { user: 'admin', password } })).body.token as string
      const admin = await login(first.url)

      const acknowledged: string[] = []
      let next = 0
      let stopped = false
      const writer = async () => {
        while (!stopped) {
          const id = `crash_user_${next++}`
          try {
            const answer = await call(first.url, 'POST', '/v1/users', {
              token: admin,
              body: { id, name: id },
            })
            if (answer.status === 201) acknowledged.push(id)
          } catch {
            return // the server is gone: this write was never acknowledged
          }
        }
      }
      const writers = Array.from({ length: WRITERS }, writer)
      await until('40 acknowledged writes', () => acknowledged.length >= 40)
      await first.crash()
      stopped = true
      await Promise.all(writers)
      const seen = [...acknowledged]

      const second = await startServer(temp.target)
      try {
        const token = await login(second.url)
        const missing: string[] = []
        for (const id of seen) {
          const answer = await call(second.url, 'GET', `/v1/users/${id}`, { token })
          if (answer.status !== 200) missing.push(id)
        }
        expect(missing).toEqual([])
      } finally {
        await second.stop()
      }

      const verify = spawnSync(process.execPath, [CLI, 'audit', 'verify', '--db', temp.target], {
        encoding: 'utf8',
        env: { ...process.env, LOG_LEVEL: 'warn' },
      })
      expect(verify.stderr).toBe('')
      expect(verify.status).toBe(0)
      expect(verify.stdout).toMatch(/audit log intact/)
    } finally {
      await temp.remove()
    }
  })
})
