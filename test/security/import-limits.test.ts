import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliOn } from '../support/cli.js'
import { tempSqlite } from '../support/temp-store.js'

/** `custodian import greenbutton` refuses what the HTTP route refuses, by file and line, storing nothing. */
describe('custodian import greenbutton within the limits', () => {
  const temp = tempSqlite()
  const { run, readings, addAliceWithMeter } = cliOn(temp)
  const file = (name: string, text: string) => {
    const path = join(temp.dir, name)
    writeFileSync(path, text)
    return path
  }
  beforeAll(() => {
    expect(addAliceWithMeter()).toEqual([0, 0])
  })
  afterAll(() => temp.remove())

  it('refuses a CSV in which no line is a reading', () => {
    const path = file('empty.csv', 'usage_point,start,duration,value\n')
    const result = run('import', 'greenbutton', path)
    expect(result.status).toBe(1)
    expect(result.stderr).toContain(
      `${path}:1:0: no readings: no line after the header is a reading (usage_point,start,duration,value[,cost][,quality])`,
    )
    expect(result.stdout).not.toMatch(/0 readings/)
    expect(readings()).toBe(0)
  })

  it('refuses a CSV line longer than the limit, as configured', () => {
    const path = file(
      'long.csv',
      `usage_point,start,duration,value\nup_front,2026-11-21T00:00:00Z,900,${'9'.repeat(600)}\n`,
    )
    const result = run('import', 'greenbutton', path, '--max-text-length', '500')
    expect(result.status).toBe(1)
    expect(result.stderr).toContain(
      `${path}:2:0: line longer than 500 characters (the limit maxTextLength, --max-text-length)`,
    )
    expect(readings()).toBe(0)
  })
})
