import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { scriptLines } from '../support/script-output.js'
import { CLI } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

const fixture = fileURLToPath(new URL('../fixtures/consent.script', import.meta.url))

describe('ESPI consent by script and CLI', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('grants, extends and terminates, refusing what it must, and shows the record in the CLI', () => {
    const run = spawnSync(process.execPath, [CLI, 'script', fixture, '--db', temp.target, '--json'], {
      encoding: 'utf8',
      env: { ...process.env, LOG_LEVEL: 'warn' },
    })
    expect(run.status).toBe(1)
    const lines = scriptLines(run.stdout)
    expect(lines.filter((l) => !l.ok).map((l) => [l.line, l.error?.code])).toEqual([
      [9, 'Validation'],
      [15, 'Conflict'],
    ])
    const secret = lines.find((l) => l.line === 6)?.result?.client_secret as string
    expect(secret).toMatch(/^[\w-]{40,}$/)
    // Terminated 30 days from today: access ends when that day does.
    const today = new Date()
    const endOfTermination = new Date(
      Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 31),
    )
    const shown = lines.find((l) => l.line === 13)?.result?.items as {
      status: string
      scope: string
      ends: string
    }[]
    expect(shown).toEqual([
      expect.objectContaining({
        status: 'terminated',
        scope: 'FB=4_5;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13',
        ends: endOfTermination.toISOString(),
      }),
    ])
    // The store keeps only the client secret's hash.
    const dump = spawnSync('sqlite3', [temp.target, 'select secret_hash from espi_third_parties'], {
      encoding: 'utf8',
    })
    if (dump.status === 0) expect(dump.stdout).not.toContain(secret)
  })
})
