import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { loadConfig } from '../config.js'
import { entityViews } from '../entitlements/views.js'
import { isCustodianError } from '../errors.js'
import { commands } from '../script/commands.js'
import { help } from './help.js'
import { serve } from './serve.js'
import { cliOptions, type Flags, tokenOf, UsageError } from './verb-context.js'
import { audit } from './verbs-audit.js'
import { backup } from './verbs-backup.js'
import { importFile } from './verbs-import.js'
import { accessCheck, catalogVerb, participantVerb } from './verbs-licences.js'
import { login } from './verbs-login.js'
import { partyAssertion } from './verbs-party.js'
import { command, script, show } from './verbs-script.js'
import { delegationAnswer, delegationSync, trustDecide } from './verbs-trust.js'

/** This package's version, from its package.json (two folders up from src/cli and from dist/cli alike). */
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

/** parseArgs's refusals, said shortly: the option and where the options are listed. */
function usageMessage(error: Error & { code?: string }): string {
  const option = /'([^']+)'/.exec(error.message)?.[1]
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option)
    return `unknown option ${option}; run custodian help for the options`
  return error.message
}

/** The `custodian` command: its verb dispatched; exit 0 done, 1 refused or failed, 2 a bad command line. */
export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: cliOptions,
      allowPositionals: true,
      strict: true,
    })
    const flags = values as Flags
    const [verb, ...rest] = positionals
    if (flags.version) {
      out.write(`custodian ${VERSION}\n`)
      return 0
    }
    if (!verb || verb === 'help' || flags.help) return help(out)
    const config = loadConfig({ flags })
    switch (verb) {
      case 'serve':
        return await serve(config, out)
      case 'demo':
        return await serve(config, out, true)
      case 'script':
        return await script(config, flags, rest[0], out)
      case 'audit':
        return await audit(config, flags, rest[0], out)
      case 'backup':
        return await backup(config, rest[0], out)
      case 'login':
        return await login(config, flags, out)
      case 'logout': {
        const token = tokenOf(flags)
        if (!token) throw new UsageError('logout needs --token T (or CUSTODIAN_TOKEN)')
        return await command(config, flags, 'logout', [token], out)
      }
      case 'import':
        return await importFile(config, flags, rest[0], rest[1], out)
      case 'catalog':
        return await catalogVerb(config, flags, rest, out)
      case 'participant':
        return await participantVerb(config, flags, rest, out)
      case 'access':
        return await accessCheck(config, flags, rest, out)
      case 'delegation':
        if (rest[0] === 'sync') return await delegationSync(config, flags, rest, out)
        return delegationAnswer(flags, rest, out)
      case 'trust':
        return await trustDecide(config, flags, rest, out)
      case 'party':
        return await partyAssertion(flags, rest, out)
      case 'show':
        // `show users` lists entitlement entities; `show sensor ...` and the like are House Mate commands.
        if (!rest[0])
          throw new UsageError(
            `show takes KIND [ID] (KIND: ${Object.keys(entityViews).join(', ')}), or configuration|energy-use [TARGET], or sensor|appliance ADDRESS`,
          )
        if (rest[0] && Object.hasOwn(entityViews, rest[0]))
          return await show(config, flags, rest[0], rest[1], out)
        return await command(config, flags, verb, rest, out)
      default:
        if (!Object.hasOwn(commands, verb))
          throw new UsageError(`unknown command "${verb}"; run custodian help`)
        return await command(config, flags, verb, rest, out)
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`custodian: ${usageMessage(error as Error & { code?: string })}\n`)
      return 2
    }
    if (isCustodianError(error)) {
      process.stderr.write(`custodian: ${error.code}: ${error.message}\n`)
      return 1
    }
    throw error
  }
}
