import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE_BODY } from '../support/customers.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, registerSolarSavings } from '../support/third-party.js'

/** How long the other process holds SQLite's write lock each time: far past the 20 ms SQLite itself waits. */
const HELD_MS = 300

/**
 * Another process on the store's SQLite file that takes the write lock when asked (a line on its stdin), once
 * it has let go of it, says so, and lets it go HELD_MS later: as the node's own audit appender does through a
 * commit on a slow disk, or a CLI command's write.
 */
function lockHolder(file: string) {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1])
    db.pragma('busy_timeout = 10000')
    let released = Promise.resolve()
    require('node:readline').createInterface({ input: process.stdin }).on('line', () => {
      released = released.then(() => new Promise((resolve) => {
        db.exec('begin immediate')
        process.stdout.write('held\\n')
        setTimeout(() => resolve(db.exec('commit')), ${HELD_MS})
      }))
    })`
  const child: ChildProcess = spawn(process.execPath, ['-e', script, file], {
    cwd: new URL('../..', import.meta.url),
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
  let holds = 0
  return {
    /** Resolves once the other process holds the lock. */
    hold: async () => {
      child.stdin?.write('hold\n')
      const line = await lines.next()
      if (line.value !== 'held') throw new Error(`the lock holder said ${JSON.stringify(line.value)}`)
      holds++
    },
    holds: () => holds,
    stop: () => child.kill(),
  }
}

describe("a customer's consent while another process holds the SQLite store's write lock", () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let holder: ReturnType<typeof lockHolder>

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    holder = lockHolder(temp.target)
    await call(server.url, 'POST', '/v1/customers', { token: admin, body: ALICE_BODY })
    await call(server.url, 'POST', '/v1/customers/alice/usage-points', {
      token: admin,
      body: { description: 'meter', kind: 'electricity', id: 'up_a' },
    })
  })
  afterAll(async () => {
    holder.stop()
    await server.stop()
    temp.remove()
  })

  it('completes: every step that writes oidc-provider records waits for the lock instead of failing', async () => {
    const redirectUri = 'https://solar.example/callback'
    const { config } = await registerSolarSavings(server.url, admin, {
      redirectUri,
      notifyUri: 'https://solar.example/notify',
      scope: 'FB=1_3_4_5_15;IntervalDuration=900',
    })
    const flow = await authorizationRequest(config, redirectUri, 'FB=1_3_4_5_15;IntervalDuration=900')
    // Each of the browser's requests (the authorization request, the login, the consent and the resumes,
    // each storing an interaction, a session or a grant) arrives while the lock is held elsewhere.
    const whileHeld: typeof fetch = async (input, init) => {
      await holder.hold()
      return fetch(input, init)
    }
    const { callback } = await authorizeAsCustomer(
      server.url,
      flow.url,
      redirectUri,
      { username: 'alice', password: 'alice password' },
      whileHeld,
    )
    expect(holder.holds()).toBeGreaterThanOrEqual(5)
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
    })
    expect(tokens.access_token).toMatch(/\S{20,}/)
    expect(server.output()).not.toMatch(/authorization server error|SQLITE_BUSY/)
  })
})
