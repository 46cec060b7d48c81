import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { cliOn } from '../support/cli.js'
import { CLI, startServer } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

/** The command's manners: one error style and exit code per kind of failure, names as messages write them. */
describe('custodian on the command line', () => {
  const temp = tempSqlite()
  const { run } = cliOn(temp)
  afterAll(() => temp.remove())

  it('refuses a missing catalog file as every missing file: exit 2, with the custodian: prefix', () => {
    const missing = run('catalog', 'load', 'no-such-catalog.ttl')
    expect(missing.status).toBe(2)
    expect(missing.stderr).toBe('custodian: catalog file no-such-catalog.ttl does not exist\n')
    const script = run('script', 'no-such-script.txt')
    expect([script.status, script.stderr]).toEqual([
      2,
      'custodian: script file no-such-script.txt does not exist\n',
    ])
  })

  it('answers `show` alone with what it takes, not a House Mate syntax error', () => {
    const show = run('show')
    expect(show.status).toBe(2)
    expect(show.stderr).toMatch(
      /^custodian: show takes KIND \[ID\] \(KIND: permissions, .*sensor\|appliance ADDRESS\n$/,
    )
  })

  it('accepts prefixed IB1 names (ib1:Name) wherever full URLs are', () => {
    const added = run(
      'participant',
      'add',
      'p1',
      '--role',
      'https://registry.core.trust.ib1.org/scheme/perseus/role/carbon-accounting-provider',
      '--understands',
      'ib1:ObligationAttribution',
    )
    expect(added.stderr).toBe('')
    expect(added.status).toBe(0)
    expect(added.stdout).toContain('understanding 1 obligation(s)')
    // Read as the ib1: term it names (so a name that is none is refused as such), not as a URL scheme.
    const unknown = run(
      'participant',
      'add',
      'p2',
      '--role',
      'https://example.org/role',
      '--understands',
      'ib1:NoSuchThing',
    )
    expect(unknown.status).toBe(1)
    expect(unknown.stderr).toContain('ib1:NoSuchThing is not a standard obligation')
  })

  it('backs up the SQLite store to a file that opens as a store, and never overwrites one', () => {
    expect(run('show', 'users').status).toBe(0)
    const copy = `${temp.target}.backup`
    const made = run('backup', copy)
    expect(made.stderr).toBe('')
    expect(made.status).toBe(0)
    expect(made.stdout).toMatch(/^backed up .* to .*\.backup \(\d+ pages\)\n$/)
    const verify = spawnSync(process.execPath, [CLI, 'audit', 'verify', '--db', copy], { encoding: 'utf8' })
    expect([verify.status, verify.stdout]).toEqual([0, expect.stringContaining('audit log intact')])
    const again = run('backup', copy)
    expect([again.status, again.stderr]).toEqual([
      2,
      `custodian: ${copy} exists; backup does not overwrite\n`,
    ])
  })

  it('says which PostgreSQL server it could not reach, without the password', () => {
    const result = spawnSync(
      process.execPath,
      [CLI, 'audit', 'verify', '--db', 'postgres://bob:hunter2@127.0.0.1:1/custodian'],
      { encoding: 'utf8' },
    )
    expect(result.status).toBe(1)
    expect(result.stderr).toBe(
      'custodian: Unavailable: could not connect to PostgreSQL at 127.0.0.1:1 (database custodian): nothing listens there (connection refused)\n',
    )
    expect(result.stderr).not.toContain('hunter2')
  })

  it('refuses an unknown log format, naming the setting', () => {
    const result = run('show', 'users', '--log-format', 'xml')
    expect(result.status).toBe(1)
    expect(result.stderr).toBe('custodian: Validation: logFormat must be auto, pretty or json, got "xml"\n')
  })

  it('logs one line a request: JSON for a collector, readable when asked (pretty, as on a terminal)', async () => {
    for (const format of ['json', 'pretty']) {
      const store = tempSqlite()
      const server = await startServer(store.target, { LOG_LEVEL: 'info', CUSTODIAN_LOG_FORMAT: format })
      try {
        await fetch(`${server.url}/health`)
        const line = await until('the request logged', () =>
          server
            .output()
            .split('\n')
            .find((l) => l.includes('GET /health 200')),
        )
        if (format === 'json') expect(JSON.parse(line)).toMatchObject({ level: 30, status: 200 })
        else expect(line).toMatch(/^\[\d\d:\d\d:\d\d\] INFO.*: GET \/health 200 [\d.]+ ms/)
        // Fastify's own two lines a request are gone.
        expect(server.output()).not.toContain('incoming request')
      } finally {
        await server.stop()
        store.remove()
      }
    }
  })
})
