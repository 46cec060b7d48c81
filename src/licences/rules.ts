import type { Decision } from '../decision/decision.js'
import { type CatalogModel, list } from './catalog-model.js'
import { shortName } from './vocabulary.js'

/** A decision on a data service: with a permit, the licence it is used under, and what that licence says. */
export interface ServiceAccessDecision extends Decision {
  licence?: string
  legalText?: string
  /** Everything the licence grants; a consumer ignores the grants it does not understand. */
  grants: readonly string[]
}

/**
 * May participant P access data service D, and under which licence? Any one of D's roles is enough; the
 * licence must have a registered interpretation; and every obligation in it must be one P understands, since
 * a consumer MUST NOT use a licence with an obligation it does not understand. Pure.
 */
export function decideServiceAccess(
  catalog: CatalogModel,
  participantId: string,
  serviceUrl: string,
): ServiceAccessDecision {
  const revision = catalog.revision
  const deny = (reason: string): ServiceAccessDecision => ({
    allowed: false,
    reason,
    obligations: [],
    grants: [],
    revision,
  })
  const service = catalog.services.get(serviceUrl)
  if (!service) return deny(`data service ${serviceUrl} is not in the catalog`)
  const participant = catalog.participants.get(participantId)
  if (!participant) return deny(`participant ${participantId} is not registered`)
  const required = list(service.roles)
  const held = list(participant.roles)
  const role = required.find((r) => held.includes(r))
  if (!role) {
    return deny(
      `${participantId} holds none of the roles ${serviceUrl} requires: any one of ${required.join(', ')} would do (${participantId} holds ${held.length > 0 ? held.join(', ') : 'no role'})`,
    )
  }
  const licence = catalog.licences.get(service.licence)
  if (!licence)
    return deny(
      `${serviceUrl} is licensed under ${service.licence}, which has no registered interpretation, so its obligations are unknown`,
    )
  const obligations = list(licence.obligations)
  const understood = new Set(list(participant.understands))
  const unknown = obligations.filter((o) => !understood.has(o))
  if (unknown.length > 0) {
    return deny(
      `${participantId} does not understand the obligation ${unknown.map(shortName).join(', ')} of licence ${licence.url}, and a licence with an obligation the consumer does not understand must not be used`,
    )
  }
  return {
    allowed: true,
    reason: `${participantId} holds ${role}, which ${serviceUrl} accepts; its licence ${licence.url} may be used`,
    licence: licence.url,
    legalText: licence.legal_text,
    grants: list(licence.grants),
    obligations,
    revision,
  }
}
