import { entitlementOperations } from '../entitlements/operations.js'
import { checkAccessBatch } from '../entitlements/session-operations.js'
import { CustodianError } from '../errors.js'
import { outboxOperations } from '../notify/outbox-operations.js'
import { catalogCommands } from './catalog-commands.js'
import {
  type CommandOutcome,
  type CommandSpec,
  define,
  resolveToken,
  type SessionState,
  words,
} from './command-kit.js'
import { consentCommands } from './consent-commands.js'
import { housemateCommands } from './housemate-commands.js'
import { operationCommands, runOperation } from './operation-commands.js'
import type { Field } from './parse-line.js'
import { trustCommands } from './trust-commands.js'

export type { CommandOutcome, CommandSpec, SessionState } from './command-kit.js'

const syntax = (message: string) => new CustodianError('Syntax', message)

/** Every command of the script language. The CLI runs the same table. */
export const commands: Record<string, CommandSpec> = {
  ...operationCommands([entitlementOperations, Object.values(outboxOperations)]),
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
  // One question a field, so the list keeps the script's comma-separated grammar (define takes at most six).
  check_access_batch: {
    usage:
      'check_access_batch <token_ref>, <permission_id> <resource_id> [<user_id>][, <permission_id> <resource_id> [<user_id>]]...',
    help: 'answers many access questions in order with one audit commit; naming a user asks about that user (administrators only)',
    async run(s, args) {
      const usage = commands.check_access_batch?.usage
      const [ref, ...fields] = args
      if (!ref || ref.text === '' || fields.length === 0)
        throw syntax(`check_access_batch takes a token and at least one question: ${usage}`)
      const questions = fields.map((f) => {
        // Split again: a CLI argument arrives as one word (`"open_door house1"`).
        const [permission, resource, user, extra] = words(f.text)
        if (!permission || !resource || extra !== undefined)
          throw syntax(
            `column ${f.column}: a question is <permission_id> <resource_id> [<user_id>]: ${usage}`,
          )
        return user === undefined ? { permission, resource } : { permission, resource, user }
      })
      const output = (await runOperation(checkAccessBatch, s, { questions }, resolveToken(s, ref.text))) as {
        answers: { allowed: boolean; user: string; reason: string }[]
      }
      const lines = output.answers.map((a) => `${a.allowed ? 'allowed' : 'denied'}: ${a.reason}`)
      return { message: lines.join('; '), result: output }
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
