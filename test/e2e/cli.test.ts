import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const seedScript = fileURLToPath(new URL('../fixtures/housemate-seed.script', import.meta.url))

function custodian(
  args: string[],
  options: { cwd?: string; input?: string; env?: Record<string, string> } = {},
) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'warn', ...options.env },
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

const jsonLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)

describe('custodian script', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it("runs the seed's sample data with exactly one JSON object per command line, all ok", () => {
    const run = custodian(['script', seedScript, '--db', temp.target, '--json'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const lines = jsonLines(run.stdout)
    expect(lines).toHaveLength(30)
    expect(lines.every((l) => l.ok === true)).toBe(true)
    expect(lines[0]).toEqual({
      line: 8,
      command: 'define_permission',
      ok: true,
      result: { revision: 1, summary: 'defined permission user_admin' },
    })
    expect(lines.find((l) => l.command === 'create_resource_role')).toMatchObject({
      result: {
        summary: expect.stringContaining('resource house1 did not exist and was created'),
        createdResource: 'house1',
      },
    })
  })

  it('reports each bad line with its number and code, goes on, changes nothing for it, and exits 1', () => {
    const script = [
      'login voiceprint --jimmy--',
      'check_access @jimmy, control_door, house1',
      'check_access @jimmy, control_oven, house1',
      'define_role, broken "unterminated',
      'create_resource kitchen, Kitchen, no_such_house',
      'add_role_to_user nobody, adult_resident',
      'frobnicate x',
      'create_user, kim, Kim',
      'check_access not-a-token, control_door, house1',
    ].join('\n')
    const run = custodian(['script', '-', '--db', temp.target, '--json'], { input: script })
    expect(run.code).toBe(1)
    const lines = jsonLines(run.stdout)
    expect(lines.map((l) => [l.line, l.ok, (l.error as { code?: string } | undefined)?.code])).toEqual([
      [1, true, undefined],
      [2, true, undefined],
      [3, false, 'AccessDenied'],
      [4, false, 'Syntax'],
      [5, false, 'NotFound'],
      [6, false, 'NotFound'],
      [7, false, 'Syntax'],
      [8, true, undefined],
      [9, false, 'InvalidAccessToken'],
    ])
    expect(lines[2]?.error).toEqual({
      code: 'AccessDenied',
      message:
        'control_oven on house1 refused: jimmy holds control_door, control_window on house1; control_oven is not among them',
    })
    expect((lines[3]?.error as { message?: string } | undefined)?.message).toBe(
      'column 21: unterminated quoted string (no closing ")',
    )
    expect((lines[4]?.error as { message?: string } | undefined)?.message).toBe(
      'parent resource no_such_house does not exist',
    )
    const show = custodian(['show', 'resources', '--db', temp.target, '--json'])
    expect(jsonLines(show.stdout).map((r) => r.id)).toEqual(['house1'])
  })

  it('prints file:line and the outcome for a person', () => {
    const file = join(temp.dir, 'two.script')
    writeFileSync(file, '# a comment\n\ncheck_access @nobody, control_door, house1\n')
    const run = custodian(['script', file, '--db', temp.target])
    expect(run.code).toBe(1)
    expect(run.stdout).toBe(
      `${file}:3: check_access: NotFound: no successful login of nobody earlier in this script, so @nobody names no token\n`,
    )
    expect(run.stderr).toMatch(/^1 command\(s\), 1 failed; store at revision \d+\n$/)
  })

  it('prints its version, and refuses an unknown option shortly, naming it, with exit 2', () => {
    const version = custodian(['--version'])
    expect(version.code).toBe(0)
    expect(version.stdout).toMatch(/^custodian \d+\.\d+\.\d+\n$/)
    const bogus = custodian(['serve', '--bogus'])
    expect(bogus.code).toBe(2)
    expect(bogus.stderr).toBe('custodian: unknown option --bogus; run custodian help for the options\n')
  })

  it('says which file is missing', () => {
    const run = custodian(['script', join(temp.dir, 'nope.script'), '--db', temp.target])
    expect(run).toMatchObject({
      code: 2,
      stderr: `custodian: script file ${join(temp.dir, 'nope.script')} does not exist\n`,
    })
  })
})

describe('administrative commands once an administrator exists', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('need the token of the latest `login user` in a script, and of --token on the command line', () => {
    const setup = custodian(['script', '-', '--db', temp.target], {
      input:
        'create_user boss, Boss\nadd_user_credential boss, password, "s3cret, with comma"\nadd_role_to_user boss, admin\n',
    })
    expect(setup.code).toBe(0)
    const refused = custodian(['script', '-', '--db', temp.target, '--json'], {
      input: 'create_user eve, Eve\n',
    })
    expect(jsonLines(refused.stdout)[0]).toMatchObject({ ok: false, error: { code: 'AccessDenied' } })
    const allowed = custodian(['script', '-', '--db', temp.target, '--json'], {
      input: 'login user boss, password "s3cret, with comma"\ncreate_user eve, Eve\n',
    })
    expect(jsonLines(allowed.stdout).map((l) => l.ok)).toEqual([true, true])

    const token = custodian(['login', '--user', 'boss', '--db', temp.target], {
      input: 's3cret, with comma\n',
    })
    expect(token.code).toBe(0)
    const created = custodian([
      'define_permission',
      'open_door',
      'Open Door',
      'Opens, closes',
      '--db',
      temp.target,
      '--token',
      token.stdout.trim(),
    ])
    expect(created).toMatchObject({ code: 0, stdout: 'defined permission open_door\n' })
    // A batch check from the command line: each argument is one question, `<permission> <resource> [<user>]`.
    const batch = custodian([
      'check_access_batch',
      token.stdout.trim(),
      'open_door door1',
      'open_door door1 eve',
      '--db',
      temp.target,
    ])
    expect(batch).toMatchObject({
      code: 0,
      stdout:
        'allowed: boss holds admin, which allows every permission; denied: eve holds no permission that applies to door1, so not open_door (door1 is not a registered resource)\n',
    })
    const without = custodian(['delete_permission', 'open_door', '--db', temp.target])
    expect(without.code).toBe(1)
    expect(without.stderr).toMatch(
      /^custodian: AccessDenied: delete_permission|^custodian: AccessDenied: permission.delete needs the access token/,
    )
  })
})

describe('custodian audit verify', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('passes on an intact log and detects a changed, a removed and a truncated record', () => {
    expect(custodian(['script', seedScript, '--db', temp.target]).code).toBe(0)
    const intact = custodian(['audit', 'verify', '--db', temp.target])
    expect(intact).toMatchObject({
      code: 0,
      stdout: 'audit log intact: 30 record(s), hash chain verified from genesis\n',
    })

    const db = new Database(temp.target)
    db.prepare("update audit_log set reason = 'nothing to see' where seq = 5").run()
    db.close()
    const changed = custodian(['audit', 'verify', '--db', temp.target])
    expect(changed.code).toBe(1)
    expect(changed.stdout).toContain('record 5: record content does not match its hash: it was changed')

    const db2 = new Database(temp.target)
    db2.prepare('delete from audit_log where seq in (5, 30)').run()
    db2.close()
    const removed = custodian(['audit', 'verify', '--db', temp.target, '--json'])
    expect(removed.code).toBe(1)
    expect(JSON.parse(removed.stdout).problems).toEqual([
      { seq: 6, problem: 'record(s) 5..5 missing: sequence jumps from 4 to 6' },
      { seq: 30, problem: 'records 30..30 were removed from the end' },
    ])
  })
})

describe('the working directory', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('defaults the store to ./data/ under the current directory, from any directory', () => {
    const run = custodian(['script', seedScript], { cwd: temp.dir })
    expect(run.code).toBe(0)
    expect(existsSync(join(temp.dir, 'data', 'custodian.db'))).toBe(true)
  })

  it('rejects a bad setting, naming it', () => {
    const run = custodian(['show', 'users', '--idle-timeout', 'soon'], { cwd: temp.dir })
    expect(run).toMatchObject({
      code: 1,
      stderr:
        'custodian: Validation: --idle-timeout: idleTimeoutSeconds must be a whole number >= 0, got "soon"\n',
    })
  })
})

describe('output read by a reader that stops early', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('ends quietly with the command’s own status when the pipe closes (custodian catalog export | head -1)', () => {
    // A catalog whose export is far larger than a pipe holds, so that writes meet the closed pipe.
    const services = Array.from(
      { length: 3000 },
      (_, i) =>
        `<https://data.example.com/service/${i}> a dcat:DataService ; ib1:roleRequiredToAccess <https://roles.example/reader> ; dcterms:license <https://licences.example/open> .`,
    )
    const file = join(temp.dir, 'big.ttl')
    writeFileSync(
      file,
      `@prefix dcat: <http://www.w3.org/ns/dcat#> .\n@prefix dcterms: <http://purl.org/dc/terms/> .\n@prefix ib1: <http://registry.ib1.org/ns/1.0#> .\n${services.join('\n')}\n`,
    )
    expect(custodian(['catalog', 'load', file, '--db', temp.target]).code).toBe(0)
    const run = spawnSync(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${CLI}" catalog export --db "${temp.target}" | head -1; echo "status \${PIPESTATUS[0]}" >&2`,
      ],
      { encoding: 'utf8' },
    )
    expect(run.stdout).toBe('@prefix dcat: <http://www.w3.org/ns/dcat#>.\n')
    expect(run.stderr).toBe('status 0\n')
  })
})
