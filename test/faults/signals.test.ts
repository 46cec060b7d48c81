import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url))

/** True once nothing accepts connections on `port` any more. */
const portIsFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })

/**
 * systemd and container runtimes signal the process they started, which for `npm start` is npm, not node:
 * the scripts run node with `exec` so that npm's forwarded SIGTERM reaches the server itself. The build
 * (prestart, predemo) is skipped here with --ignore-scripts: `npm test` has just built, and a rebuild would
 * rewrite dist/ under the other test files.
 */
describe('stopping through npm', () => {
  const started: ChildProcess[] = []
  afterEach(() => {
    for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  })

  for (const script of ['start', 'demo']) {
    it(`SIGTERM to \`npm ${script === 'start' ? 'start' : 'run demo'}\` frees the port within 5 s`, async () => {
      const temp = tempSqlite()
      const npm = spawn(
        'npm',
        ['run', script, '--ignore-scripts', '--silent', '--', '--port', '0', '--db', temp.target],
        {
          cwd: REPOSITORY,
          env: { ...process.env, LOG_LEVEL: 'warn', CUSTODIAN_MAILBOX: join(temp.dir, 'mailbox') },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      started.push(npm)
      let output = ''
      npm.stdout?.on('data', (chunk) => {
        output += chunk
      })
      npm.stderr?.on('data', (chunk) => {
        output += chunk
      })
      try {
        const url = await until(`npm ${script} to serve (output: ${output})`, () => {
          const match = /serving at (http:\/\/\S+)/.exec(output)
          return match?.[1]
        })
        const port = Number(new URL(url).port)
        expect(await portIsFree(port)).toBe(false)

        npm.kill('SIGTERM')
        await until(`port ${port} to be free after SIGTERM`, () => portIsFree(port), 5_000)
        if (npm.exitCode === null) await once(npm, 'exit')
        expect(output).not.toMatch(/Error|at .+\.js:\d+/)
      } finally {
        temp.remove()
      }
    })
  }
})
