import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { scriptLines } from '../support/script-output.js'
import { CLI, call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

const seedScript = fileURLToPath(new URL('../fixtures/housemate-seed.script', import.meta.url))

/** `custodian ARGS --db DB`, a script on standard input; each line's JSON report with --json. */
function custodian(db: string, args: string[], input = '', env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args, '--db', db], {
    input,
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'warn', CUSTODIAN_TOKEN: '', ...env },
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Each line's outcome of a `--json` script run: 'ok', or the error's code and message. */
const outcomes = (stdout: string) =>
  scriptLines(stdout).map((r) => (r.ok ? 'ok' : `${r.error?.code}: ${r.error?.message}`))

describe("scripts after `npm start`, and the seed's administrator", () => {
  const temp = tempSqlite()
  let server: RunningServer | undefined
  afterAll(async () => {
    await server?.stop()
    temp.remove()
  })

  it('runs a script with --token or CUSTODIAN_TOKEN; then debra administers users and sam is refused', async () => {
    const started = await startWithAdmin(temp.target)
    server = started.server
    const admin = started.admin

    // The store has an administrator: without a token a script is refused; with one it runs.
    const without = custodian(temp.target, ['script', seedScript, '--json'])
    expect(without.code).toBe(1)
    expect(outcomes(without.stdout)[0]).toMatch(
      /^AccessDenied: permission.define needs the access token of a user holding the role_admin permission \(or admin\)/,
    )
    const seeded = custodian(temp.target, ['script', seedScript, '--json', '--token', admin])
    expect(seeded.stderr).toBe('')
    expect(outcomes(seeded.stdout).filter((o) => o !== 'ok')).toEqual([])
    const byEnvironment = custodian(temp.target, ['script', '-', '--json'], 'create_user walt, Walt\n', {
      CUSTODIAN_TOKEN: admin,
    })
    expect(outcomes(byEnvironment.stdout)).toEqual(['ok'])

    // debra holds user_admin through admin_role: she creates, changes and deletes users.
    const debra = custodian(
      temp.target,
      ['script', '-', '--json'],
      [
        'login user debra, password secret',
        'create_user carol, Carol',
        'add_user_credential carol, password, "carol secret"',
        'add_role_to_user carol, adult_resident',
        'remove_role_from_user carol, adult_resident',
        'delete_user carol',
        'add_user_credential sam, password, "sam secret"',
        'list_sessions sam',
      ].join('\n'),
    )
    expect(outcomes(debra.stdout)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'])
    expect(debra.code).toBe(0)

    // sam holds no administrative permission: refused, naming the one it needs.
    const sam = custodian(
      temp.target,
      ['script', '-', '--json'],
      'login user sam, password "sam secret"\ncreate_user mallory, Mallory\n',
    )
    expect(outcomes(sam.stdout)).toEqual([
      'ok',
      'AccessDenied: sam may not user.create: it needs the user_admin permission (or admin), which sam does not hold',
    ])

    // The same over HTTP, once the server has read the script's changes.
    const logIn = async (user: string, password: string) =>
      (
        await until(`the server to know ${user}`, async () => {
          const r = await call(started.server.url, 'POST', '/v1/sessions', { body: { user, password } })
          return r.status === 201 ? r : undefined
        })
      ).body.token as string
    const created = await call(started.server.url, 'POST', '/v1/users', {
      token: await logIn('debra', 'secret'),
      body: { id: 'dora', name: 'Dora' },
    })
    expect(created.status).toBe(201)
    const samToken = await logIn('sam', 'sam secret')
    const refused = await call(started.server.url, 'POST', '/v1/users', {
      token: samToken,
      body: { id: 'mallory', name: 'Mallory' },
    })
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toBe(
      'sam may not user.create: it needs the user_admin permission (or admin), which sam does not hold',
    )
  })
})

describe('bootstrap mode', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it("lets an empty store's first script run every command as an administrator, until one exists", () => {
    const run = custodian(
      temp.target,
      ['script', '-', '--json'],
      [
        'define house house1 address "1 Main Street"',
        'define room kitchen floor 1 type kitchen house house1',
        'define appliance oven type oven room house1:kitchen energy-use 2400',
        'set appliance house1:kitchen:oven status power value on',
        'show appliance house1:kitchen:oven',
        'show configuration house1',
        'show energy-use house1',
        'create_user root, Root',
        'add_user_credential root, password, "root secret"',
        'add_role_to_user root, admin',
        // Bootstrap mode ended with root: a command without a token is refused.
        'show configuration house1',
        'create_user eve, Eve',
      ].join('\n'),
    )
    const lines = scriptLines(run.stdout)
    expect(outcomes(run.stdout).slice(0, 10)).toEqual(Array(10).fill('ok'))
    expect(lines[4]?.result).toMatchObject({ device: 'house1:kitchen:oven', status: { power: 'on' } })
    expect(lines[5]?.result).toMatchObject({ items: [expect.objectContaining({ id: 'house1' })] })
    expect(lines[6]?.result).toMatchObject({ watts: 2400 })
    expect(outcomes(run.stdout).slice(10)).toEqual([
      expect.stringMatching(
        /^InvalidAccessToken: configuration.show on house1 refused: no access token was given/,
      ),
      'AccessDenied: user.create needs the access token of a user holding the user_admin permission (or admin), and none was given: log in as an administrator first',
    ])
  })
})
