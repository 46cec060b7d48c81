import { consentOperations } from '../consent/operations.js'
import { CustodianError } from '../errors.js'
import type { Operation } from '../kernel/operations.js'
import { type CommandSpec, define, resolveToken, type SessionState, words } from './command-kit.js'
import { operationCommands, runChange, runOperation } from './operation-commands.js'

/**
 * An authorization of the customer holding `token`, named by its id or, when the customer has exactly one
 * with that third party, by the third party's client id.
 */
function resolveAuthorization(state: SessionState, token: string, ref: string): string {
  if (state.custodian.consent.authorizations.has(ref)) return ref
  const userId = state.custodian.whoHolds(token)
  const customer = userId.ok ? state.custodian.consent.customerOfUser(userId.token.user_id) : undefined
  const matching = customer
    ? state.custodian.consent.authorizationsOf({ customerId: customer.id, clientId: ref })
    : []
  if (matching.length === 1) return (matching[0] as { id: string }).id
  if (matching.length > 1) {
    throw new CustodianError(
      'Conflict',
      `you have ${matching.length} authorizations for ${ref}: name one by id (${matching.map((a) => a.id).join(', ')})`,
    )
  }
  return ref // refused, with a clear reason, by the owner check
}

/** A customer's command on one of their authorizations: `<token_ref>, <authorization>, <value>`. */
function onOwnAuthorization(
  usage: string,
  help: string,
  op: Operation,
  input: (id: string, value: string) => Record<string, unknown>,
): CommandSpec {
  return define(usage, help, 3, 3, async (s, [ref, which, value]) => {
    const token = resolveToken(s, ref)
    const id = resolveAuthorization(s, token, which)
    return runChange(op, s, input(id, value), token)
  })
}

const ops = consentOperations
type Authorizations = { items: { id: string; status: string; scope: string; ends: string }[] }

/** Green Button / ESPI consent commands of the script language. */
export const consentCommands: Record<string, CommandSpec> = {
  ...operationCommands([Object.values(ops)]),
  register_third_party: define(
    'register_third_party <client_id>, <name>, <redirect_uri>, <notify_uri>, <scope>[, <description>]',
    'registers a third party as an OAuth client; its client secret is shown once',
    5,
    6,
    async (s, [client_id, name, redirectUri, notify_uri, scope, description]) => {
      const input = { client_id, name, description, redirect_uris: words(redirectUri), notify_uri, scope }
      const party = (await runOperation(ops.registerThirdParty, s, input)) as {
        revision: number
        client_id: string
        client_secret: string
      }
      return {
        message: `registered third party ${party.client_id}; client secret (shown once): ${party.client_secret}`,
        result: party,
      }
    },
  ),
  authorize: define(
    'authorize <token_ref>, <client_id>, <usage_point_id ...>, <scope>, <end date>',
    "a customer authorizes a third party for some of the customer's usage points until a date",
    5,
    5,
    async (s, [ref, client_id, usagePoints, scope, period_end]) => {
      const input = { client_id, usage_point_ids: words(usagePoints), scope, period_end }
      return runChange(ops.authorize, s, input, resolveToken(s, ref))
    },
  ),
  extend_authorization: onOwnAuthorization(
    'extend_authorization <token_ref>, <authorization_id|client_id>, <new end date>',
    "a customer changes when an authorization's access ends",
    ops.extend,
    (id, period_end) => ({ id, period_end }),
  ),
  terminate_authorization: onOwnAuthorization(
    'terminate_authorization <token_ref>, <authorization_id|client_id>, <YYYY-MM-DD>',
    'a customer ends an authorization after that date (its data stays available up to and including it)',
    ops.terminate,
    (id, date) => ({ id, date }),
  ),
  show_authorizations: define(
    'show_authorizations [<token_ref>]',
    "a customer's own authorizations, or every one for an administrator",
    0,
    1,
    async (s, [ref]) => {
      const { items } = (
        ref
          ? await runOperation(ops.myAuthorizations, s, {}, resolveToken(s, ref))
          : await runOperation(ops.listAuthorizations, s, {})
      ) as Authorizations
      return {
        message:
          items.map((a) => `${a.id} ${a.status} ${a.scope} until ${a.ends}`).join('; ') ||
          'no authorizations',
        result: { items },
      }
    },
  ),
}
