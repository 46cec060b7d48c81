import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** How long `stop` waits for the server's drain (less than a hook's 60 s, so that its output is shown). */
const STOP_MS = 40_000

export const CLI = fileURLToPath(new URL('../../bin/custodian.js', import.meta.url))

export interface RunningServer {
  url: string
  /** Set when this start created the first administrator. */
  adminPassword?: string
  output: () => string
  stop: () => Promise<number | null>
  /** Kills the process at once (SIGKILL: no drain, no last flush), as a crash would; resolves once it is gone. */
  crash: () => Promise<void>
}

/** Starts `custodian serve` as its own process on a free port and waits until it prints its URL. */
export async function startServer(
  db: string,
  env: Record<string, string> = {},
  verb: 'serve' | 'demo' = 'serve',
): Promise<RunningServer> {
  // A test that reads no emails still has its server write them: into a folder of its own, never ./data.
  const mailbox =
    env.CUSTODIAN_MAILBOX || process.env.CUSTODIAN_MAILBOX
      ? undefined
      : mkdtempSync(join(tmpdir(), 'custodian-mailbox-'))
  const child: ChildProcess = spawn(process.execPath, [CLI, verb, '--port', '0', '--db', db], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...(mailbox ? { CUSTODIAN_MAILBOX: mailbox } : {}), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (mailbox) child.once('exit', () => rmSync(mailbox, { recursive: true, force: true }))
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /serving at (https?:\/\/\S+)/.exec(output)
      if (match && /\n/.test(output.slice(match.index))) resolve(match[1] as string)
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before serving:\n${output}`)))
  })
  // The banner is one write, so the admin line, if any, came with the URL.
  const password = /password "([^"]+)"/.exec(output)?.[1]
  return {
    url,
    ...(password ? { adminPassword: password } : {}),
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      // A drain that never ends fails the test with what the server said, not a hook's timeout with nothing.
      const drained = await Promise.race([
        once(child, 'exit').then(([code]) => ({ code: code as number | null })),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), STOP_MS).unref()),
      ])
      if (drained) return drained.code
      child.kill('SIGKILL')
      await once(child, 'exit')
      throw new Error(
        `the server did not stop within ${STOP_MS / 1000} s of SIGTERM; its output:\n${output.slice(-4000)}`,
      )
    },
    crash: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await once(child, 'exit')
    },
  }
}

export interface JsonResponse {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

export async function call(
  url: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<JsonResponse> {
  const headers: Record<string, string> = {}
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  })
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : {} }
}

/** A started server and the token of its first administrator. */
export async function startWithAdmin(
  db: string,
  env: Record<string, string> = {},
): Promise<{ server: RunningServer; admin: string }> {
  const server = await startServer(db, env)
  const login = await call(server.url, 'POST', '/v1/sessions', {
    body: { user: 'admin', password: server.adminPassword },
  })
  if (login.status !== 201)
    throw new Error(`the first administrator could not log in: ${JSON.stringify(login.body)}`)
  return { server, admin: login.body.token as string }
}

/** A user made by the administrator, with a password, logged in: its token. */
export async function userWithSession(url: string, admin: string, id: string): Promise<string> {
  await call(url, 'POST', '/v1/users', { token: admin, body: { id, name: id } })
  await call(url, 'PUT', `/v1/users/${id}/credentials/password`, {
    token: admin,
    body: { value: `${id} password` },
  })
  const login = await call(url, 'POST', '/v1/sessions', { body: { user: id, password: `${id} password` } })
  if (login.status !== 201) throw new Error(`${id} could not log in: ${JSON.stringify(login.body)}`)
  return login.body.token as string
}
