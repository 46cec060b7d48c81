import { createInterface } from 'node:readline'
import type { Config } from '../config.js'
import { type Flags, open, UsageError } from './verb-context.js'

/** The first line of standard input: a password piped in (`echo ... | custodian login`). */
async function readSecretFromStdin(): Promise<string> {
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) return line
  return ''
}

/**
 * A password typed at a terminal, asked for on standard error and not echoed: the terminal is put in raw
 * mode, so each key comes here instead of to the screen. Ctrl-C and Ctrl-D give up.
 */
export function promptSecret(
  prompt: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  output.write(prompt)
  return new Promise((resolve, reject) => {
    let secret = ''
    const done = (error?: Error) => {
      input.setRawMode(false)
      input.pause()
      input.off('data', onData)
      output.write('\n')
      if (error) reject(error)
      else resolve(secret)
    }
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done()
        if (char === '\u0003' || char === '\u0004') return done(new UsageError('login: no password given'))
        if (char === '\u007f' || char === '\b') secret = secret.slice(0, -1)
        else secret += char
      }
    }
    input.setRawMode(true)
    input.resume()
    input.on('data', onData)
  })
}

/** The password: CUSTODIAN_PASSWORD, else typed at the terminal (not echoed), else the first line piped in. */
function password(): Promise<string> {
  const fromEnv = process.env.CUSTODIAN_PASSWORD
  if (fromEnv !== undefined) return Promise.resolve(fromEnv)
  return process.stdin.isTTY ? promptSecret('Password: ') : readSecretFromStdin()
}

/** `custodian login`: a session token, for a user and password or a voice print. */
export async function login(config: Config, flags: Flags, out: NodeJS.WritableStream): Promise<number> {
  const voicePrint = flags['voice-print']
  if (typeof voicePrint !== 'string' && typeof flags.user !== 'string')
    throw new UsageError('login needs --user ID (password on stdin) or --voice-print VP')
  // Asked before the store is opened: a slow typist holds no connection.
  const secret = typeof voicePrint === 'string' ? '' : await password()
  const custodian = await open(config)
  try {
    // Local, like scripts: relayed as by the in-process House Mate controller, and counted against it.
    const result =
      typeof voicePrint === 'string'
        ? await custodian.loginVoicePrint(voicePrint, { address: 'cli' })
        : await custodian.login(flags.user as string, secret, { address: 'cli' })
    out.write(flags.json ? `${JSON.stringify(result)}\n` : `${result.token}\n`)
    return 0
  } finally {
    await custodian.close()
  }
}
