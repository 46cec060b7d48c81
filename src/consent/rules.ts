import { allow, type Decision, deny } from '../decision/decision.js'
import type { AuthorizationRow, CustomerRow } from '../store/schema.js'
import type { ConsentModel } from './consent-model.js'

/**
 * Who may use and change ESPI authorizations: a third party reads through an authorization of its own while
 * it is in force; a customer grants, extends and terminates its own. Pure: reads only the consent model.
 */

/**
 * May `clientId` use authorization `id` at `nowMs`? Pure. The reasons never name the customer: they may
 * reach the third party.
 */
export function authorizationAccess(
  consent: ConsentModel,
  id: string,
  clientId: string,
  nowMs: number,
): Decision {
  const revision = consent.revision
  const row = consent.authorizations.get(id)
  if (!row || row.client_id !== clientId)
    return deny(`authorization ${id} is not one of this third party's`, revision)
  const party = consent.thirdParties.get(clientId)
  if (party?.standing !== 'active')
    return deny(`third party ${clientId} is ${party?.standing ?? 'not registered'}`, revision)
  if (nowMs < Date.parse(row.period_start))
    return deny(`authorization ${id} starts at ${row.period_start}`, revision)
  if (nowMs >= Date.parse(row.period_end)) {
    const how = row.status === 'terminated' ? 'was terminated; access ended' : 'expired'
    return deny(`authorization ${id} ${how} at ${row.period_end}`, revision)
  }
  return allow(`authorization ${id} is active until ${row.period_end}`, revision)
}

/** Only a customer of this utility grants, extends and terminates authorizations; with the customer it is. */
export function decideCustomer(
  consent: ConsentModel,
  userId: string,
): (Decision & { allowed: true; customer: CustomerRow }) | (Decision & { allowed: false }) {
  const customer = consent.customerOfUser(userId)
  if (!customer) return deny(`${userId} is not a customer of this utility`, consent.revision)
  return { ...allow(`${userId} is customer ${customer.id}`, consent.revision), customer }
}

/**
 * A customer changes only its own authorizations. The refusal is the same whether the authorization is
 * someone else's or does not exist, so that it reveals nothing.
 */
export function decideOwnAuthorization(
  consent: ConsentModel,
  id: string,
  customerId: string,
): (Decision & { allowed: true; authorization: AuthorizationRow }) | (Decision & { allowed: false }) {
  const row = consent.authorizations.get(id)
  if (!row || row.customer_id !== customerId)
    return deny(`authorization ${id} is not one of yours`, consent.revision)
  return { ...allow(`authorization ${id} is customer ${customerId}'s`, consent.revision), authorization: row }
}

/** A customer authorizes access to its own usage points only; refused alike if one is another's or missing. */
export function decideOwnUsagePoints(
  consent: ConsentModel,
  usagePointIds: readonly string[],
  customerId: string,
): Decision {
  for (const id of usagePointIds) {
    if (consent.usagePoints.get(id)?.customer_id !== customerId)
      return deny(`usage point ${id} is not one of yours`, consent.revision)
  }
  return allow(`the usage points are customer ${customerId}'s`, consent.revision)
}
