import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { cliOn } from '../support/cli.js'
import { CLI } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

// `custodian import` is batch work: it runs at nice 10, every thread of it, so that a server on the same
// machine answers first. Linux keeps a nice value a thread; /proc shows each.

const READINGS = 150_000
const temp = tempSqlite()
const dir = mkdtempSync(join(tmpdir(), 'custodian-nice-'))
afterAll(() => {
  temp.remove()
  rmSync(dir, { recursive: true, force: true })
})

/** The nice value of each thread of `pid` (field 19 of /proc/PID/task/TID/stat), or undefined once it is gone. */
function niceOfThreads(pid: number): number[] | undefined {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])
    })
  } catch {
    return undefined
  }
}

it.runIf(existsSync('/proc/self/task'))(
  'runs every thread of an import at nice 10, and finishes it',
  async () => {
    expect(cliOn(temp).addAliceWithMeter()).toEqual([0, 0])
    const start = Date.UTC(2016, 0, 1) / 1000
    const lines = ['usage_point,start,duration,value']
    for (let i = 0; i < READINGS; i++) lines.push(`up_front,${start + i * 900},900,${i % 97}`)
    const file = join(dir, 'readings.csv')
    writeFileSync(file, `${lines.join('\n')}\n`)

    const importing = spawn(process.execPath, [CLI, 'import', 'greenbutton', file, '--db', temp.target], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    importing.stdout.on('data', (chunk) => {
      output += chunk
    })
    const exited = once(importing, 'exit')
    const seen = await until('every thread of the import at nice 10', () => {
      if (importing.exitCode !== null) throw new Error(`the import ended first: ${output}`)
      const nice = niceOfThreads(importing.pid as number)
      return nice && nice.length > 1 && nice.every((n) => n === 10) ? nice : undefined
    })
    expect(seen.length).toBeGreaterThan(1)
    const [code] = await exited
    expect(code).toBe(0)
    expect(output).toContain(`${READINGS} readings (${READINGS} new or revised)`)
  },
  60_000,
)
