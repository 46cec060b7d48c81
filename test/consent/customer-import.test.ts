import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const HEADER =
  'username,name,email,account_number,password,usage_point_id,usage_point_description,service_kind'

describe('custodian import customers', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())
  const file = (name: string, text: string) => {
    const path = join(temp.dir, name)
    writeFileSync(path, text)
    return path
  }
  const run = (path: string) =>
    spawnSync(process.execPath, [CLI, 'import', 'customers', path, '--db', temp.target], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'warn' },
    })
  const counts = () => {
    const db = new Database(temp.target, { readonly: true })
    const customers = (db.prepare('select count(*) as n from espi_customers').get() as { n: number }).n
    const points = (db.prepare('select count(*) as n from espi_usage_points').get() as { n: number }).n
    db.close()
    return { customers, points }
  }

  it('imports customers and their usage points, a repeated username adding a usage point', () => {
    const rows = Array.from(
      { length: 150 },
      (_, i) =>
        `user${i},"Customer ${i}, Jr",u${i}@example.org,ACCT-${i},password-${i},,"${i} Main St, Apt 2",electricity`,
    )
    rows.push('user0,,,,,up_extra_0,Garage meter,gas')
    const result = run(file('good.csv', [HEADER, ...rows].join('\n')))
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^imported 150 customer\(s\) and 151 usage point\(s\) \(revision \d+\)\n$/)
    expect(counts()).toEqual({ customers: 150, points: 151 })
  })

  it('reports every problem with its line and field, and imports nothing', () => {
    const before = counts()
    const text = [
      HEADER,
      'newbie,New Person,newbie@example.org,ACCT-N,long enough,,,',
      'broken,Broken,not-an-email,ACCT-B,short,,,',
      'other,Other,o@example.org,ACCT-O,long enough,up_x,Meter,steam',
      'third,Third,t@example.org,ACCT-T,long enough,up_extra_0,Meter,water',
    ].join('\n')
    const result = run(file('bad.csv', text))
    expect(result.status).toBe(1)
    expect(result.stdout.trim().split('\n')).toEqual([
      `${join(temp.dir, 'bad.csv')}:3: email: "not-an-email" is not an email address`,
      `${join(temp.dir, 'bad.csv')}:3: password: must be 8 to 1024 characters`,
      `${join(temp.dir, 'bad.csv')}:4: service_kind: must be one of electricity, gas, water, not "steam"`,
      `${join(temp.dir, 'bad.csv')}:5: usage_point_id: up_extra_0 is used twice`,
    ])
    expect(result.stderr).toBe('nothing imported: 4 problem(s)\n')
    expect(counts()).toEqual(before)
  })

  it('names a missing column and a malformed line', () => {
    const missing = run(file('missing.csv', 'username,name,email,password\nx,X,x@example.org,long enough\n'))
    expect(missing.stdout).toBe(`${join(temp.dir, 'missing.csv')}:1: account_number: column is missing\n`)
    const quote = run(file('quote.csv', `${HEADER}\nq,"unterminated,q@example.org,A,long enough,,,\n`))
    expect(quote.status).toBe(1)
    expect(quote.stdout).toMatch(new RegExp(`^${join(temp.dir, 'quote.csv')}:\\d+: .*quote`, 'i'))
  })
})
