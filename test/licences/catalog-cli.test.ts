import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { cliOn } from '../support/cli.js'
import { corpusPath } from '../support/corpus.js'
import { scriptLines } from '../support/script-output.js'
import { tempSqlite } from '../support/temp-store.js'

const VOLTAGE = fileURLToPath(new URL('../fixtures/ib1-voltage.ttl', import.meta.url))
const SEED = readFileSync(corpusPath('seeds/ib1-trust-framework-access-control.txt'), 'utf8')
const SERVICE = 'https://data.example.com/supply-voltage/v0'
const ROLE = (name: string) => `https://directory.estf.ib1.org/scheme/electricity/role/${name}`
const ATTRIBUTION = 'http://registry.ib1.org/ns/1.0#ObligationAttribution'

describe('custodian catalog, participant and access check', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())
  const { run } = cliOn(temp)

  it('loads the voltage-reporting catalog and licence', () => {
    const result = run('catalog', 'load', VOLTAGE)
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toBe(`loaded 1 data service(s) and 1 licence interpretation(s) from ${VOLTAGE}\n`)
  })

  it('refuses the specification’s own example with FILE:LINE:COLUMN and exit 1, storing nothing', () => {
    const start = SEED.indexOf('@prefix dcterms:')
    const file = join(temp.dir, 'seed-example.ttl')
    writeFileSync(file, SEED.slice(start, SEED.indexOf('\n.\n', start) + 3))
    const before = run('catalog', 'export').stdout
    const result = run('catalog', 'load', file)
    expect(result.status).toBe(1)
    expect(result.stderr).toBe(
      `${file}:2:47: Expected declaration to end with a dot: a dot (.) is missing here\n`,
    )
    expect(result.stdout).toBe('')
    expect(run('catalog', 'export').stdout).toBe(before)
  })

  it('adds participants and decides: a report provider may, under the licence; a careless one may not', () => {
    expect(
      run(
        'participant',
        'add',
        'grid-reports',
        '--role',
        ROLE('report-provider'),
        '--role',
        ROLE('analyst'),
        '--understands',
        ATTRIBUTION,
      ).status,
    ).toBe(0)
    expect(run('participant', 'add', 'careless', '--role', ROLE('archiver')).status).toBe(0)
    const allowed = run('access', 'check', '--participant', 'grid-reports', '--service', SERVICE)
    expect(allowed.status).toBe(0)
    expect(allowed.stdout).toMatch(/^allowed: grid-reports holds .*report-provider, which .* accepts/)
    expect(allowed.stdout).toContain(
      'licence: https://registry.estf.ib1.org/scheme/electricity/licence/voltage-reporting/1.4 (legal text',
    )
    expect(allowed.stdout).toContain(`obligations: ${ATTRIBUTION}\n`)
    const json = run('access', 'check', '--participant', 'grid-reports', '--service', SERVICE, '--json')
    expect(JSON.parse(json.stdout)).toMatchObject({ allowed: true, obligations: [ATTRIBUTION] })
    const denied = run('access', 'check', '--participant', 'careless', '--service', SERVICE)
    expect(denied.status).toBe(1)
    expect(denied.stdout).toMatch(
      /^denied: careless does not understand the obligation ib1:ObligationAttribution/,
    )
  })

  it('explains what it needs when used wrongly', () => {
    const result = run('participant', 'add', 'nobody')
    expect(result.status).toBe(2)
    expect(result.stderr).toBe('custodian: participant add needs at least one --role ROLE_URL\n')
    const bad = run('participant', 'add', 'odd', '--role', 'not-a-url')
    expect(bad.status).toBe(1)
    expect(bad.stderr).toBe('custodian: Validation: role "not-a-url" is not an absolute URL (nor ib1:Name)\n')
  })

  it('does the same from a command script, a refused line named by its number', () => {
    const script = join(temp.dir, 'catalog.script')
    writeFileSync(
      script,
      [
        `load_catalog ${VOLTAGE}`,
        `add_participant archive, "${ROLE('archiver')}", "${ATTRIBUTION}", "National Archive"`,
        `check_data_access archive, ${SERVICE}`,
        `add_participant nobody, "${ROLE('archiver')}", "http://registry.ib1.org/ns/1.0#ObligationNonsense"`,
      ].join('\n'),
    )
    const result = run('script', script, '--json')
    expect(result.status).toBe(1)
    const lines = scriptLines(result.stdout)
    expect(lines.map((l) => [l.line, l.ok])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ])
    expect(lines[2]?.result?.allowed).toBe(true)
    expect(lines[3]?.error?.message).toBe(
      "ib1:ObligationNonsense is not a standard obligation; a custom obligation belongs in its author's own namespace, not ib1:",
    )
  })

  it('exports Turtle that another store loads to the same catalog', () => {
    const exported = run('catalog', 'export').stdout
    const file = join(temp.dir, 'exported.ttl')
    writeFileSync(file, exported)
    const other = tempSqlite()
    try {
      const onOther = cliOn(other)
      expect(onOther.run('catalog', 'load', file).status).toBe(0)
      expect(onOther.run('catalog', 'export').stdout).toBe(exported)
    } finally {
      other.remove()
    }
  })
})
