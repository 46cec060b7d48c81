import type { ConsentModel } from '../consent/consent-model.js'
import { parseEspiScope } from '../consent/espi-scope.js'
import { authorizationAccess } from '../consent/rules.js'
import { allow, type Decision, deny } from '../decision/decision.js'
import type { AuthorizationRow } from '../store/schema.js'
import { type DataWindow, functionBlocksOf, kindAllowed } from './data-window.js'

/**
 * Who reads what of the ESPI publication: a subscription with the token of its own Authorization while that
 * is in force; Batch/Bulk with the third party's client-credentials token, for the bulk its scope allowance
 * names. Pure: reads only the consent model. The reasons never name the customer: they reach the third party.
 */

/** Who a bearer token speaks for: a grant's token names its Authorization, a client-credentials token none. */
export interface TokenGrant {
  clientId: string
  grantId?: string | undefined
}

/** May this token read `subscription` at `nowMs`? With the Authorization it reads through, when it may. */
export function decideSubscriptionRead(
  consent: ConsentModel,
  grant: TokenGrant,
  subscription: string,
  nowMs: number,
): (Decision & { allowed: true; authorization: AuthorizationRow }) | (Decision & { allowed: false }) {
  // A grant's token names its Authorization: one lookup, no search, on every request.
  const row = grant.grantId ? consent.authorizations.get(grant.grantId) : undefined
  if (row?.client_id === grant.clientId && row.subscription_id === subscription) {
    const access = authorizationAccess(consent, row.id, grant.clientId, nowMs)
    return access.allowed ? { ...access, allowed: true, authorization: row } : { ...access, allowed: false }
  }
  // Refused; the search is only to say why.
  const owned = [...consent.authorizations.values()].some(
    (a) => a.subscription_id === subscription && a.client_id === grant.clientId,
  )
  if (!owned) return deny(`subscription ${subscription} is not one of this third party's`, consent.revision)
  if (!grant.grantId)
    return deny(
      `subscription ${subscription} is read with the access token of its Authorization; client credentials reach Batch/Bulk`,
      consent.revision,
    )
  return deny(
    `this access token is for another Authorization than subscription ${subscription}`,
    consent.revision,
  )
}

/** Batch/Bulk is read with the third party's client-credentials token, not with a customer grant's. */
export function decideBulkToken(consent: ConsentModel, grant: TokenGrant): Decision {
  return grant.grantId
    ? deny('Batch/Bulk is read with a client_credentials token, not a customer grant’s', consent.revision)
    : allow(`a client_credentials token of ${grant.clientId}`, consent.revision)
}

/** A third party reads only the bulk its scope allowance names (its BR). */
export function decideBulk(consent: ConsentModel, clientId: string, bulkId: string): Decision {
  const party = consent.thirdParties.get(clientId)
  const allowance = parseEspiScope(party?.scope ?? '')
  return allowance.ok && allowance.scope.bulkId === bulkId
    ? allow(`bulk ${bulkId} is named in ${clientId}'s scope allowance`, consent.revision)
    : deny(`bulk ${bulkId} is not this third party's (its scope allowance names its BR)`, consent.revision)
}

/**
 * A kind of resource whose function block the Authorization's scope leaves out is refused, saying which block
 * it needs, rather than answered with an empty feed that reads as "no data".
 */
export function decideFunctionBlock(consent: ConsentModel, window: DataWindow, kind: string): Decision {
  const needs = functionBlocksOf(kind)
  if (!needs || kindAllowed(window, kind))
    return allow(`${kind} is within this Authorization's scope`, consent.revision)
  return deny(
    `${kind} needs function block ${needs.join(' or ')}, which this Authorization's scope (${window.authorization.scope}) does not include`,
    consent.revision,
  )
}
