import { createInterface } from 'node:readline'
import type { Config } from '../config.js'
import { type Flags, open, UsageError } from './verb-context.js'

async function readSecretFromStdin(): Promise<string> {
  const lines = createInterface({ input: process.stdin })
  for await (const line of lines) return line
  return ''
}

/** `custodian login`: a session token, for a user and password or a voice print. */
export async function login(config: Config, flags: Flags, out: NodeJS.WritableStream): Promise<number> {
  const custodian = await open(config)
  try {
    const voicePrint = flags['voice-print']
    // Local, like scripts: relayed as by the in-process House Mate controller, and counted against it.
    const result =
      typeof voicePrint === 'string'
        ? await custodian.loginVoicePrint(voicePrint, { address: 'cli' })
        : typeof flags.user === 'string'
          ? await custodian.login(
              flags.user,
              process.env.CUSTODIAN_PASSWORD ?? (await readSecretFromStdin()),
              { address: 'cli' },
            )
          : undefined
    if (!result) throw new UsageError('login needs --user ID (password on stdin) or --voice-print VP')
    out.write(flags.json ? `${JSON.stringify(result)}\n` : `${result.token}\n`)
    return 0
  } finally {
    await custodian.close()
  }
}
