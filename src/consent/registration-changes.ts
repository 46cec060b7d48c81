import { conflict, invalid, notFound } from '../errors.js'
import type { Index } from '../kernel/projections.js'
import type { Plan } from '../kernel/write-plan.js'
import { parseScopeOrThrow, registerThirdParty } from './changes.js'
import type { ConsentModel } from './consent-model.js'
import type { SelfRegistration } from './registration-metadata.js'

/**
 * Pure write planners for a third party's own registration (RFC 7591) and its changes (RFC 7592). The third
 * party becomes one like an administrator registers, with the same row, standing and consent flow.
 */

const normalName = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase()

/**
 * Customers recognise a third party by its name on the consent page: a third party registering itself may
 * not take a name another one has, or it could pass for that one.
 */
function checkNameFree(consent: ConsentModel, name: string, clientId: string): void {
  for (const party of consent.thirdParties.values()) {
    if (party.client_id !== clientId && normalName(party.name) === normalName(name))
      throw invalid(`client_name "${name}" is another third party's name`)
  }
}

export function selfRegister(
  world: Index,
  input: {
    clientId: string
    secretHash: string
    registration: SelfRegistration
    issuedBy: string
    now: string
  },
): Plan {
  checkNameFree(world.consent, input.registration.name, input.clientId)
  const plan = registerThirdParty(world, {
    ...input.registration,
    clientId: input.clientId,
    secretHash: input.secretHash,
    now: input.now,
  })
  return { ...plan, summary: `${plan.summary}; registered itself (RFC 7591) with ${input.issuedBy}` }
}

export function updateRegistration(
  { consent }: Index,
  input: { clientId: string; registration: SelfRegistration; now: string },
): Plan {
  const party = consent.thirdParties.get(input.clientId)
  if (!party) throw notFound(`third party ${input.clientId} is not registered`)
  if (party.standing !== 'active')
    throw conflict(`third party ${input.clientId} is ${party.standing}: its registration cannot change`)
  const { registration: r } = input
  checkNameFree(consent, r.name, input.clientId)
  const row = {
    ...party,
    name: r.name,
    description: r.description,
    redirect_uris: JSON.stringify(r.redirectUris),
    notify_uri: r.notifyUri,
    scope: parseScopeOrThrow(r.scope).text,
    scope_selection_uri: r.scopeSelectionUri ?? null,
    updated_at: input.now,
  }
  const changed = (
    ['name', 'description', 'redirect_uris', 'notify_uri', 'scope', 'scope_selection_uri'] as const
  ).filter((field) => row[field] !== party[field])
  return {
    changes: changed.length ? [{ tbl: 'espi_third_parties', op: 'put', row }] : [],
    summary: changed.length
      ? `third party ${input.clientId} changed its registration (RFC 7592): ${changed.join(', ')}`
      : `third party ${input.clientId} sent its registration unchanged`,
  }
}
