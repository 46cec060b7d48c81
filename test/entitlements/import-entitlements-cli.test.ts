import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { cliOn } from '../support/cli.js'
import { CLI } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const jsonLines = (...records: object[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`

describe('custodian import entitlements', () => {
  const temp = tempSqlite()
  const { run } = cliOn(temp)
  afterAll(() => temp.remove())
  const file = (name: string, text: string) => {
    const path = join(temp.dir, name)
    writeFileSync(path, text)
    return path
  }
  /** A token of `user`, logging in with the password on standard input, as a person would. */
  const login = (user: string, password: string) =>
    spawnSync(process.execPath, [CLI, 'login', '--user', user, '--db', temp.target], {
      encoding: 'utf8',
      input: `${password}\n`,
    })
  /** The rows of a table, as the store holds them. */
  const count = (table: string, where = '') => {
    const db = new Database(temp.target, { readonly: true })
    const n = (db.prepare(`select count(*) as n from ${table} ${where}`).get() as { n: number }).n
    db.close()
    return n
  }

  it('imports a JSON Lines file in bootstrap mode, and the people in it can log in and are checked', () => {
    const people = file(
      'people.jsonl',
      jsonLines(
        { type: 'permission', id: 'read_meter', name: 'Read meter' },
        { type: 'role', id: 'reader', name: 'Reader', permissions: ['read_meter'] },
        { type: 'resource', id: 'house1' },
        { type: 'resource', id: 'house1:meter', parent: 'house1' },
        { type: 'user', id: 'boss', name: 'Boss' },
        { type: 'credential', user: 'boss', password: 'boss secret' },
        { type: 'grant', user: 'boss', permission: 'admin' },
        { type: 'user', id: 'ann', name: 'Ann' },
        { type: 'credential', user: 'ann', password: 'ann secret' },
        { type: 'grant', user: 'ann', role: 'reader' },
      ),
    )
    const result = run('import', 'entitlements', people, '--json')
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({
      rows: 11,
      counts: { permission: 1, role: 1, resource: 2, user: 2, credential: 2, grant: 2 },
    })
    expect(count('changes')).toBe(11)
    const loggedIn = login('boss', 'boss secret')
    expect(loggedIn.status).toBe(0)
    const token = loggedIn.stdout.trim()
    const users = run('show', 'users', '--token', token, '--json')
    expect(users.stdout).toContain('"id":"ann"')
    const check = run('check_access', '--token', token, 'read_meter', 'house1:meter')
    expect(check.status).toBe(1) // boss holds admin, not read_meter
  })

  it('once an administrator exists, needs their token', () => {
    const more = file('more.jsonl', jsonLines({ type: 'user', id: 'eve' }))
    const refused = run('import', 'entitlements', more)
    expect(refused.status).toBe(1)
    expect(refused.stderr).toContain('AccessDenied')
    expect(count('users')).toBe(2)
  })

  it('writes nothing when the last line is bad, and prints every problem as file:line: field: message', () => {
    const token = login('boss', 'boss secret').stdout.trim()
    // The token's use is written back as a change; the import's rows would be changes of these tables.
    const entitlementChanges = () => count('changes', "where tbl in ('users', 'user_grants')")
    const before = entitlementChanges()
    const bad = file(
      'bad.jsonl',
      `${jsonLines(
        { type: 'user', id: 'zed' },
        { type: 'grant', user: 'zed', role: 'reader' },
        { type: 'user', id: 'zed' },
      )}{"type":"grant","user":"zed","role":"nobody"}\n{"type":"user","id":"yan"`,
    )
    const result = run('import', 'entitlements', bad, '--token', token)
    expect(result.status).toBe(1)
    expect(result.stdout).toBe(
      [
        `${bad}:3: id: user zed is already in the file, on line 1`,
        `${bad}:4: role: role nobody is neither in the file nor in the store`,
        `${bad}:5: not JSON: Expected ',' or '}' after property value in JSON at position 25`,
        '',
      ].join('\n'),
    )
    expect(result.stderr).toBe('nothing imported: 3 problem(s)\n')
    expect(entitlementChanges()).toBe(before)
    expect(count('users')).toBe(2)
  })

  it('imports CSV with a type column, a user and their grants on their own rows', () => {
    const token = login('boss', 'boss secret').stdout.trim()
    const csv = file(
      'people.csv',
      'type,id,name,user,password,role,resource_role,resource\nresource_role,house1_reader,,,,reader,,house1\nuser,bea,Bea,,,,,\ncredential,,,bea,"a, b",,,\ngrant,,,bea,,,house1_reader,\n',
    )
    const result = run('import', 'entitlements', csv, '--token', token)
    expect(result.stderr).toBe('')
    expect(result.stdout).toMatch(
      /^imported 1 resource role, 1 user, 1 credential, 1 grant from .*people\.csv: 4 rows \(revision \d+\)\n$/,
    )
    expect(login('bea', 'a, b').status).toBe(0)
  })
})
