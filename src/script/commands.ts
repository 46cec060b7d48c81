import { entitlementOperations } from '../entitlements/operations.js'
import { CustodianError } from '../errors.js'
import { catalogCommands } from './catalog-commands.js'
import {
  type CommandOutcome,
  type CommandSpec,
  define,
  resolveToken,
  type SessionState,
} from './command-kit.js'
import { consentCommands } from './consent-commands.js'
import { housemateCommands } from './housemate-commands.js'
import { operationCommands } from './operation-commands.js'
import type { Field } from './parse-line.js'
import { trustCommands } from './trust-commands.js'

export type { CommandOutcome, CommandSpec, SessionState } from './command-kit.js'

const syntax = (message: string) => new CustodianError('Syntax', message)

/** Every command of the script language. The CLI runs the same table. */
export const commands: Record<string, CommandSpec> = {
  ...operationCommands([entitlementOperations]),
  login: {
    usage: 'login user <user_id>, password <password>  |  login voiceprint <voice_print>',
    help: 'logs in; later commands name the token @<user_id>, and administrative commands use the latest `login user`',
    async run(s, args) {
      const [first, second] = args
      const usage = commands.login?.usage
      if (first?.words[0] === 'voiceprint' && args.length === 1 && first.words.length >= 2) {
        // Scripts run where the store is, by an operator who holds its credentials: the voice print goes
        // through as the in-process House Mate controller would relay it, counted against that controller,
        // and its token lives minutes. Over HTTP only a controller's own token may present voice prints.
        const login = await s.custodian.loginVoicePrint(first.words.slice(1).join(' '), {
          address: s.address,
        })
        s.logins.set(login.userId, login.token)
        return {
          message: `${login.userId} logged in by voice print: token ${login.tokenId} (@${login.userId}), expires ${login.expiresAt}`,
          result: {
            user: login.userId,
            token_id: login.tokenId,
            token_ref: `@${login.userId}`,
            expires_at: login.expiresAt,
          },
        }
      }
      if (
        first?.words[0] === 'user' &&
        first.words.length === 2 &&
        second?.words[0] === 'password' &&
        second.words.length >= 2 &&
        args.length === 2
      ) {
        const user = first.words[1] as string
        const login = await s.custodian.login(user, second.words.slice(1).join(' '), { address: s.address })
        s.logins.set(login.userId, login.token)
        s.adminToken = login.token
        return {
          message: `${login.userId} logged in: token ${login.tokenId} (@${login.userId}), expires ${login.expiresAt}`,
          result: {
            user: login.userId,
            token_id: login.tokenId,
            token_ref: `@${login.userId}`,
            expires_at: login.expiresAt,
          },
        }
      }
      throw syntax(`login expects: ${usage}`)
    },
  },
  logout: define('logout <token_ref>', 'ends a session (@<user_id> or a token)', 1, 1, async (s, [ref]) => {
    const token = resolveToken(s, ref)
    const result = await s.custodian.logout(token)
    if (s.adminToken === token) s.adminToken = undefined
    return { message: result.summary, result: { revision: result.revision, summary: result.summary } }
  }),
}

Object.assign(commands, housemateCommands, consentCommands, catalogCommands, trustCommands)

/** Runs one parsed command; an unknown name is a syntax error that lists the known ones. */
export async function runCommand(state: SessionState, name: string, args: Field[]): Promise<CommandOutcome> {
  const spec = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (!spec) throw syntax(`unknown command "${name}"; known commands: ${Object.keys(commands).join(', ')}`)
  return spec.run(state, args)
}
