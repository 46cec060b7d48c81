import { ConsentService } from '../consent/consent-service.js'
import type { ChangeResult } from '../custodian.js'
import { CustodianError } from '../errors.js'
import type { ServiceKind, Standing } from '../store/schema.js'
import { admin, type CommandSpec, changed, define, resolveToken, type SessionState } from './command-kit.js'

const consentOf = (state: SessionState) => new ConsentService(state.custodian)

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
  run: (service: ConsentService, token: string, id: string, value: string) => Promise<ChangeResult>,
): CommandSpec {
  return define(usage, help, 3, 3, async (s, [ref, which, value]) => {
    const token = resolveToken(s, ref)
    return changed(await run(consentOf(s), token, resolveAuthorization(s, token, which), value))
  })
}

/** Green Button / ESPI consent commands of the script language. */
export const consentCommands: Record<string, CommandSpec> = {
  create_customer: define(
    'create_customer <username>, <name>, <email>, <account_number>, <password>',
    'registers a retail customer (who logs in with that username and password)',
    5,
    5,
    async (s, [username, name, email, accountNumber, password]) =>
      changed(
        await consentOf(s).createCustomer(admin(s), { username, name, email, accountNumber, password }),
      ),
  ),
  create_usage_point: define(
    'create_usage_point <customer>, <description>, <electricity|gas|water>[, <id>]',
    'adds a usage point (meter) to a customer; the id is opaque and random unless given (never put personal data in it)',
    3,
    4,
    async (s, [customer, description, kind, id]) =>
      changed(
        await consentOf(s).createUsagePoint(admin(s), {
          customer,
          description,
          kind: kind as ServiceKind,
          ...(id ? { id } : {}),
        }),
      ),
  ),
  register_third_party: define(
    'register_third_party <client_id>, <name>, <redirect_uri>, <notify_uri>, <scope>[, <description>]',
    'registers a third party as an OAuth client; its client secret is shown once',
    5,
    6,
    async (s, [clientId, name, redirectUri, notifyUri, scope, description]) => {
      const party = await consentOf(s).registerThirdParty(admin(s), {
        clientId,
        name,
        description,
        redirectUris: redirectUri.split(/\s+/).filter(Boolean),
        notifyUri,
        scope,
      })
      return {
        message: `registered third party ${party.clientId}; client secret (shown once): ${party.clientSecret}`,
        result: { revision: party.revision, client_id: party.clientId, client_secret: party.clientSecret },
      }
    },
  ),
  set_third_party_standing: define(
    'set_third_party_standing <client_id>, <active|suspended|revoked>',
    'suspends, revokes or reinstates a third party',
    2,
    2,
    async (s, [clientId, standing]) =>
      changed(await consentOf(s).setStanding(admin(s), clientId, standing as Standing)),
  ),
  authorize: define(
    'authorize <token_ref>, <client_id>, <usage_point_id ...>, <scope>, <end date>',
    "a customer authorizes a third party for some of the customer's usage points until a date",
    5,
    5,
    async (s, [ref, clientId, usagePoints, scope, periodEnd]) =>
      changed(
        await consentOf(s).grant(resolveToken(s, ref), {
          clientId,
          usagePointIds: usagePoints.split(/\s+/).filter(Boolean),
          scope,
          periodEnd,
        }),
      ),
  ),
  extend_authorization: onOwnAuthorization(
    'extend_authorization <token_ref>, <authorization_id|client_id>, <new end date>',
    "a customer changes when an authorization's access ends",
    (service, token, id, periodEnd) => service.extend(token, id, periodEnd),
  ),
  terminate_authorization: onOwnAuthorization(
    'terminate_authorization <token_ref>, <authorization_id|client_id>, <YYYY-MM-DD>',
    'a customer ends an authorization after that date (its data stays available up to and including it)',
    (service, token, id, date) => service.terminate(token, id, date),
  ),
  show_authorizations: define(
    'show_authorizations [<token_ref>]',
    "a customer's own authorizations, or every one for an administrator",
    0,
    1,
    async (s, [ref]) => {
      const service = consentOf(s)
      const items = ref
        ? service.customerAuthorizations(resolveToken(s, ref), '')
        : service.allAuthorizations(admin(s), '')
      return {
        message:
          items.map((a) => `${a.id} ${a.status} ${a.scope} until ${a.ends}`).join('; ') ||
          'no authorizations',
        result: { items },
      }
    },
  ),
}
