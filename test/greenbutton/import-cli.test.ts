import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliOn } from '../support/cli.js'
import { corpusPath } from '../support/corpus.js'
import { tempSqlite } from '../support/temp-store.js'

const DATA = corpusPath('data/greenbutton')

describe('custodian import greenbutton', () => {
  const temp = tempSqlite()
  const { run, readings, addAliceWithMeter } = cliOn(temp)
  beforeAll(() => {
    // Bootstrap mode (no administrator yet): the CLI acts without a token, as on a new installation.
    expect(addAliceWithMeter()).toEqual([0, 0])
  })
  afterAll(() => temp.remove())

  it('publishes a Green Button file for a usage point, and says what it stored', () => {
    const result = run(
      'import',
      'greenbutton',
      join(DATA, 'test_usage_data_1.xml'),
      '--usage-point',
      'up_front',
    )
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    // Then what it stored for each usage point.
    expect(result.stdout).toBe(
      '480 readings (480 new or revised) for up_front; 0 third-party notification(s) queued\n' +
        '  up_front: 480 readings (480 new or revised) in 5 interval block(s), 1 meter reading(s), 1 reading type(s), 2 summary(ies)\n',
    )
    expect(readings()).toBe(480)
  })

  it('maps the file’s usage points with a mapping file, and refuses a mapping that is not one', () => {
    const map = join(temp.dir, 'map.json')
    writeFileSync(map, JSON.stringify({ '5446AF3F': 'up_front' }))
    const result = run('import', 'greenbutton', join(DATA, 'test_usage_data_01.xml'), '--map', map, '--json')
    expect(result.status).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ usagePoints: ['up_front'], warnings: [] })
    writeFileSync(map, '["up_front"]')
    const refused = run('import', 'greenbutton', join(DATA, 'test_usage_data_01.xml'), '--map', map)
    expect(refused.status).toBe(2)
    expect(refused.stderr).toMatch(/--map .*map\.json: expected a JSON object of file usage point id/)
  })

  it('warns about a readable deviation, naming the line', () => {
    const file = join(DATA, 'schema-invalid', 'Usage-Subscription-Feed-Anonymized.xml')
    const result = run(
      'import',
      'greenbutton',
      file,
      '--map',
      writeMap({ 'test-usage-point-id': 'up_front' }),
    )
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(
      new RegExp(`^${literal(file)}:\\d+:\\d+: warning: ReadingType is nested in its MeterReading`, 'm'),
    )
  })

  it('refuses an invalid file with its position and reason, importing none of it', () => {
    const before = readings()
    const file = join(DATA, 'schema-invalid', 'ServiceCategory.xml')
    const result = run('import', 'greenbutton', file, '--usage-point', 'up_front')
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(new RegExp(`^custodian: Validation: ${literal(file)}:\\d+:\\d+: `))
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(readings()).toBe(before)
  })

  const writeMap = (map: Record<string, string>) => {
    const path = join(temp.dir, 'deviation-map.json')
    writeFileSync(path, JSON.stringify(map))
    return path
  }
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
})
