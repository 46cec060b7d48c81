import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { isCustodianError } from '../../src/errors.js'
import { CLI, call, startServer } from '../support/server.js'
import { tempPostgres } from '../support/temp-store.js'

const run = promisify(execFile)

/**
 * Login throttling across nodes: two Custodian nodes on one PostgreSQL database (and, for the HTTP route, a
 * server process on it too), a clock the test moves, attempts sent all at once.
 */
describe('login throttling shared by every node, counted before the check', () => {
  let target: string
  let remove: () => Promise<void>
  let now = Date.now()
  let first: Custodian
  let second: Custodian
  let root: string
  const open = () =>
    Custodian.open({ db: target, clock: () => now, config: { logLevel: 'silent', changePollMs: 20 } })

  /** One login attempt's outcome: 'ok', or the error's code. */
  const attempt = (node: Custodian, user: string, password: string, address: string) =>
    node.login(user, password, { address }).then(
      () => 'ok',
      (error) => (isCustodianError(error) ? error.code : Promise.reject(error)),
    )
  const count = (outcomes: string[], code: string) => outcomes.filter((o) => o === code).length
  /** The password checks the audit log recorded as failed for a user, read after both nodes flushed. */
  const evaluatedFailures = async (user: string) => {
    await first.flush()
    await second.flush()
    const rows = await first.store.readAudit(0, 100_000)
    return rows.filter(
      (r) => r.action === 'login.password' && r.resource === user && r.outcome === 'Authentication',
    ).length
  }

  beforeAll(async () => {
    ;({ target, remove } = await tempPostgres())
    first = await open()
    second = await open()
    for (const [id, password] of [
      ['alice', 'alice right'],
      ['bob', 'bob right'],
      ['root', 'root right'],
    ] as const) {
      await first.createUser(undefined, { id, name: id })
      await first.addUserCredential(undefined, id, 'password', password)
    }
    const last = await first.grantToUser(undefined, 'root', 'admin')
    await second.atLeast(last.revision)
    root = (await first.login('root', 'root right', { address: '198.51.100.1' })).token
  })
  afterAll(async () => {
    await first.close()
    await second.close()
    await remove()
  })

  it('evaluates at most the limit of 150 parallel wrong passwords sent to two nodes', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 150 }, (_, i) =>
        attempt(i % 2 === 0 ? first : second, 'alice', `wrong ${i}`, '203.0.113.7'),
      ),
    )
    // loginMaxFailuresPerUser is 5: five passwords checked (and wrong), every other attempt refused unchecked.
    expect(count(outcomes, 'Authentication')).toBe(5)
    expect(count(outcomes, 'Throttled')).toBe(145)
    expect(await evaluatedFailures('alice')).toBe(5)

    // The right password, among 18 wrong ones, all at once: once the limit is reached it is not even checked.
    const mixed = await Promise.all(
      Array.from({ length: 19 }, (_, i) =>
        attempt(i % 2 === 0 ? first : second, 'alice', i === 9 ? 'alice right' : `wrong ${i}`, '203.0.113.7'),
      ),
    )
    expect(mixed[9]).toBe('Throttled')
    expect(count(mixed, 'ok')).toBe(0)
    expect(await evaluatedFailures('alice')).toBe(5)
  })

  it('keeps the count across a restart: a node opened afresh refuses the locked pair too', async () => {
    await first.close()
    first = await open()
    expect(await attempt(first, 'alice', 'alice right', '203.0.113.7')).toBe('Throttled')
    // Alice from another address is not locked out by what happened at this one.
    expect(await attempt(first, 'alice', 'alice right', '192.0.2.10')).toBe('ok')
    // Once the lock (30 s) has passed, the next attempt is checked again; the right password clears the pair.
    now += 31_000
    expect(await attempt(second, 'alice', 'alice right', '203.0.113.7')).toBe('ok')
    expect(await attempt(first, 'alice', 'wrong again', '203.0.113.7')).toBe('Authentication')
    expect(await attempt(first, 'alice', 'alice right', '203.0.113.7')).toBe('ok')
  })

  it('does not shut the administrator out of its own address by failures from many others', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        attempt(i % 2 === 0 ? first : second, 'root', `guess ${i}`, `10.9.${i % 100}.1`),
      ),
    )
    // Failures for one user across addresses only slow it (loginSlowAfterFailures 10, then one per 5 s).
    expect(count(outcomes, 'Authentication')).toBeLessThanOrEqual(10)
    expect(count(outcomes, 'ok')).toBe(0)
    // From the address it logged in from before, the administrator gets in at once.
    expect(await attempt(first, 'root', 'root right', '198.51.100.1')).toBe('ok')
    // From an address it never used: a few seconds of slow-down at most, never a lock of minutes.
    const fresh = await second.login('root', 'root right', { address: '192.0.2.99' }).catch((e) => e)
    expect(fresh).toMatchObject({ code: 'Throttled' })
    const wait = Number(fresh.details.retryAfterSeconds)
    expect(wait).toBeGreaterThan(0)
    expect(wait).toBeLessThanOrEqual(5)
    now += wait * 1000
    expect(await attempt(second, 'root', 'root right', '192.0.2.99')).toBe('ok')
  })

  it('lets an administrator clear a lock: `custodian unlock USER`, and DELETE /v1/users/:id/lock', async () => {
    const lock = async (user: string, address: string) => {
      await Promise.all(Array.from({ length: 8 }, (_, i) => attempt(first, user, `wrong ${i}`, address)))
      expect(await attempt(second, user, `${user} right`, address)).toBe('Throttled')
    }
    await lock('bob', '203.0.113.8')
    const cli = await run(process.execPath, [CLI, 'unlock', 'bob', '--db', target, '--token', root], {
      env: { ...process.env, LOG_LEVEL: 'silent' },
    })
    expect(cli.stdout).toMatch(/cleared the login failures of user bob \(1 lock lifted\)/)
    expect(await attempt(second, 'bob', 'bob right', '203.0.113.8')).toBe('ok')

    await lock('bob', '203.0.113.9')
    const server = await startServer(target)
    try {
      const path = '/v1/users/bob/lock'
      expect(await call(server.url, 'DELETE', path)).toMatchObject({ status: 401 })
      const alice = (
        await call(server.url, 'POST', '/v1/sessions', { body: { user: 'alice', password: 'alice right' } })
      ).body.token as string
      expect(await call(server.url, 'DELETE', path, { token: alice })).toMatchObject({
        status: 403,
        body: { code: 'AccessDenied' },
      })
      expect(await attempt(first, 'bob', 'bob right', '203.0.113.9')).toBe('Throttled')
      const cleared = await call(server.url, 'DELETE', path, { token: root })
      expect(cleared).toMatchObject({ status: 200, body: { locks: 1 } })
      expect(await attempt(first, 'bob', 'bob right', '203.0.113.9')).toBe('ok')
    } finally {
      await server.stop()
    }
    const audit = await first.store.readAudit(0, 100_000)
    expect(audit.filter((r) => r.action === 'user.unlock' && r.resource === 'bob')).toEqual([
      expect.objectContaining({ actor: 'root', outcome: 'ok' }),
      expect.objectContaining({ actor: 'root', outcome: 'ok' }),
    ])
  })
})
