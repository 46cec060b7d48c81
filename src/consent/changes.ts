import { enforce } from '../decision/enforce.js'
import { conflict, invalid, notFound } from '../errors.js'
import type { Index } from '../kernel/projections.js'
import type { Plan } from '../kernel/write-plan.js'
import type { AuthorizationRow, CustomerRow, ServiceKind, Standing } from '../store/schema.js'
import type { PlannedChange } from '../store/store.js'
import { checkId } from '../validation.js'
import type { ConsentModel } from './consent-model.js'
import { completeScope, type EspiScope, parseEspiScope, scopeWithin } from './espi-scope.js'
import { type AuthorizationChange, authorizationNotices } from './notices.js'
import { decideCustomer, decideOwnAuthorization, decideOwnUsagePoints } from './rules.js'

/**
 * Pure write planners for ESPI consent: customers and usage points (the utility's), third parties (registered by
 * the Authorizing Entity), and the Authorization records that customers grant, extend and terminate.
 */
export const SERVICE_KINDS: readonly ServiceKind[] = ['electricity', 'gas', 'water']
export const STANDINGS: readonly Standing[] = ['active', 'suspended', 'revoked']
/** Longest authorization a customer can grant in one go. */
const MAX_PERIOD_MS = 10 * 366 * 86_400_000

export function parseScopeOrThrow(text: string): EspiScope {
  const parsed = parseEspiScope(text)
  if (!parsed.ok) throw invalid(`scope "${text}": ${parsed.part ? `${parsed.part}: ` : ''}${parsed.reason}`)
  return parsed.scope
}

export function createCustomer(
  { index, consent }: Index,
  input: {
    id: string
    username: string
    name: string
    email: string
    accountNumber: string
    /** None: no online account yet. */
    passwordHash?: string | undefined
    now: string
  },
): Plan {
  checkId('user', input.username)
  if (!/^[^\s@]+@[^\s@]+$/.test(input.email)) throw invalid(`email "${input.email}" is not an email address`)
  if (consent.customerOfUser(input.username)) throw conflict(`${input.username} is already a customer`)
  const changes: PlannedChange[] = []
  if (!index.users.has(input.username))
    changes.push({ tbl: 'users', op: 'put', row: { id: input.username, name: input.name } })
  if (input.passwordHash)
    changes.push({
      tbl: 'credentials',
      op: 'put',
      row: { user_id: input.username, kind: 'password', secret_hash: input.passwordHash },
    })
  changes.push({
    tbl: 'espi_customers',
    op: 'put',
    row: {
      id: input.id,
      user_id: input.username,
      name: input.name,
      email: input.email,
      account_number: input.accountNumber,
      created_at: input.now,
    },
  })
  return { changes, summary: `created customer ${input.username} (${input.id})`, details: { id: input.id } }
}

export function createUsagePoint(
  { consent }: Index,
  input: { id: string; customer: string; description: string; kind: ServiceKind; now: string },
): Plan {
  checkId('usage point', input.id)
  if (consent.usagePoints.has(input.id)) throw conflict(`usage point ${input.id} already exists`)
  const customer = consent.customers.get(input.customer) ?? consent.customerOfUser(input.customer)
  if (!customer) throw notFound(`customer ${input.customer} does not exist`)
  if (!SERVICE_KINDS.includes(input.kind))
    throw invalid(`service kind must be one of ${SERVICE_KINDS.join(', ')}, not "${input.kind}"`)
  if (input.description.length > 500) throw invalid('the description is longer than 500 characters')
  return {
    changes: [
      {
        tbl: 'espi_usage_points',
        op: 'put',
        row: {
          id: input.id,
          customer_id: customer.id,
          description: input.description,
          service_kind: input.kind,
          created_at: input.now,
        },
      },
    ],
    summary: `created usage point ${input.id} for customer ${customer.user_id}`,
    details: { id: input.id },
  }
}

function checkRedirectUri(uri: string): void {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw invalid(`redirect URI "${uri}" is not an absolute URL`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalid(`redirect URI "${uri}" must be http(s)`)
  if (url.hash) throw invalid(`redirect URI "${uri}" must not have a fragment`)
}

export function registerThirdParty(
  { consent }: Index,
  input: {
    clientId: string
    secretHash: string
    name: string
    description: string
    redirectUris: string[]
    notifyUri: string
    scope: string
    scopeSelectionUri?: string | undefined
    now: string
  },
): Plan {
  checkId('client', input.clientId)
  if (consent.thirdParties.has(input.clientId))
    throw conflict(`third party ${input.clientId} is already registered`)
  if (input.redirectUris.length === 0) throw invalid('a third party needs at least one redirect URI')
  input.redirectUris.forEach(checkRedirectUri)
  checkRedirectUri(input.notifyUri)
  if (input.scopeSelectionUri) checkRedirectUri(input.scopeSelectionUri)
  const scope = parseScopeOrThrow(input.scope)
  return {
    changes: [
      {
        tbl: 'espi_third_parties',
        op: 'put',
        row: {
          client_id: input.clientId,
          secret_hash: input.secretHash,
          name: input.name,
          description: input.description,
          redirect_uris: JSON.stringify(input.redirectUris),
          notify_uri: input.notifyUri,
          scope: scope.text,
          scope_selection_uri: input.scopeSelectionUri || null,
          standing: 'active',
          created_at: input.now,
          updated_at: input.now,
        },
      },
    ],
    summary: `registered third party ${input.clientId} (${input.name}), allowed ${scope.text}`,
  }
}

/** A new client secret for a third party: the old one stops working with this change. */
export function rotateSecret({ consent }: Index, clientId: string, secretHash: string, now: string): Plan {
  const party = consent.thirdParties.get(clientId)
  if (!party) throw notFound(`third party ${clientId} is not registered`)
  if (party.standing === 'revoked')
    throw conflict(`third party ${clientId} is revoked: it gets no new secret`)
  return {
    changes: [
      { tbl: 'espi_third_parties', op: 'put', row: { ...party, secret_hash: secretHash, updated_at: now } },
    ],
    summary: `third party ${clientId} has a new client secret; the old one no longer works`,
  }
}

export function setStanding({ consent }: Index, clientId: string, standing: Standing, now: string): Plan {
  const party = consent.thirdParties.get(clientId)
  if (!party) throw notFound(`third party ${clientId} is not registered`)
  if (!STANDINGS.includes(standing))
    throw invalid(`standing must be one of ${STANDINGS.join(', ')}, not "${standing}"`)
  if (party.standing === standing)
    return { changes: [], summary: `third party ${clientId} is already ${standing}` }
  return {
    changes: [{ tbl: 'espi_third_parties', op: 'put', row: { ...party, standing, updated_at: now } }],
    summary: `third party ${clientId} is now ${standing}`,
  }
}

function requireActiveParty(consent: ConsentModel, clientId: string) {
  const party = consent.thirdParties.get(clientId)
  if (!party) throw notFound(`third party ${clientId} is not registered`)
  if (party.standing !== 'active')
    throw conflict(`third party ${party.name} is ${party.standing}, so it cannot be authorized`)
  return party
}

export function grantAuthorization(
  { consent }: Index,
  input: {
    id: string
    subscriptionId: string
    customerId: string
    clientId: string
    usagePointIds: string[]
    scope: string
    periodEnd: string
    now: string
    baseUrl: string
  },
): Plan {
  const party = requireActiveParty(consent, input.clientId)
  if (input.usagePointIds.length === 0) throw invalid('choose at least one usage point')
  enforce(decideOwnUsagePoints(consent, input.usagePointIds, input.customerId), { as: 'not-found' })
  const asked = parseScopeOrThrow(input.scope)
  const allowance = parseScopeOrThrow(party.scope)
  const within = scopeWithin(asked, allowance)
  if (!within.ok)
    throw invalid(`scope ${asked.text} is beyond what ${party.name} may ask for: ${within.reason}`)
  const scope = completeScope(asked, allowance)
  const end = Date.parse(endOfAccess(input.periodEnd, input.now))
  const now = Date.parse(input.now)
  if (Number.isNaN(end)) throw invalid(`the end of access "${input.periodEnd}" is not a date`)
  if (end <= now) throw invalid(`the end of access ${input.periodEnd} is not in the future`)
  if (end - now > MAX_PERIOD_MS) throw invalid('access can be granted for at most ten years')
  const row: AuthorizationRow = {
    id: input.id,
    subscription_id: input.subscriptionId,
    customer_id: input.customerId,
    client_id: input.clientId,
    usage_point_ids: JSON.stringify([...new Set(input.usagePointIds)].sort()),
    scope: scope.text,
    period_start: input.now,
    period_end: new Date(end).toISOString(),
    status: 'active',
    terminated_at: null,
    created_at: input.now,
    updated_at: input.now,
  }
  return {
    changes: [{ tbl: 'espi_authorizations', op: 'put', row }],
    summary: `authorized ${party.name} for ${input.usagePointIds.length} usage point(s) until ${row.period_end} (${input.id})`,
    details: { id: input.id, subscriptionId: input.subscriptionId },
    outbox: notify(consent, 'granted', row, input.baseUrl),
  }
}

/** The customer's own authorization; another customer's is refused as if it did not exist. */
function ownAuthorization(consent: ConsentModel, id: string, customerId: string): AuthorizationRow {
  const decision = decideOwnAuthorization(consent, id, customerId)
  enforce(decision, { as: 'not-found' })
  return decision.authorization
}

export function extendAuthorization(
  { consent }: Index,
  input: { id: string; customerId: string; periodEnd: string; now: string; baseUrl: string },
): Plan {
  const row = ownAuthorization(consent, input.id, input.customerId)
  if (row.status === 'terminated')
    throw conflict(`authorization ${input.id} was terminated; grant a new one instead`)
  const end = Date.parse(endOfAccess(input.periodEnd, input.now))
  const now = Date.parse(input.now)
  if (Number.isNaN(end)) throw invalid(`the end of access "${input.periodEnd}" is not a date`)
  if (end <= now)
    throw invalid(`the end of access ${input.periodEnd} is not in the future; to end access, terminate it`)
  if (end - now > MAX_PERIOD_MS) throw invalid('access can be granted for at most ten years')
  const updated: AuthorizationRow = { ...row, period_end: new Date(end).toISOString(), updated_at: input.now }
  return {
    changes: [{ tbl: 'espi_authorizations', op: 'put', row: updated }],
    summary: `authorization ${input.id} now ends ${updated.period_end} (was ${row.period_end})`,
    outbox: notify(consent, 'extended', updated, input.baseUrl),
  }
}

/** `+<n>d` (n days from now) as an ISO time; anything else is returned as given. */
export function absoluteTime(text: string, now: string): string {
  const relative = /^\+(\d{1,5})d$/.exec(text.trim())
  return relative ? new Date(Date.parse(now) + Number(relative[1]) * 86_400_000).toISOString() : text
}

/**
 * When access ends, from what the customer gave: a day (`YYYY-MM-DD`) is the last day whose data stays
 * readable, as the pages and terminate_authorization take a day (its end, exclusive: endOfDay); `+<n>d` is
 * that many days from now; anything else is a time, as given.
 */
export function endOfAccess(text: string, now: string): string {
  const day = text.trim()
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? (endOfDay(day, now) ?? text) : absoluteTime(text, now)
}

/**
 * The end of a UTC calendar day, exclusive, so that data of that whole day stays available. The day is
 * `YYYY-MM-DD`, `today`, or `+<n>d`.
 */
export function endOfDay(text: string, now: string): string | undefined {
  const date = text === 'today' ? now.slice(0, 10) : absoluteTime(text, now).slice(0, 10)
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined
  const start = Date.parse(`${date}T00:00:00.000Z`)
  return Number.isNaN(start) ? undefined : new Date(start + 86_400_000).toISOString()
}

export function terminateAuthorization(
  { consent }: Index,
  input: { id: string; customerId: string; date: string; now: string; baseUrl: string },
): Plan {
  const row = ownAuthorization(consent, input.id, input.customerId)
  const end = endOfDay(input.date, input.now)
  if (!end) throw invalid(`the termination date "${input.date}" is not a date (YYYY-MM-DD, today or +<n>d)`)
  if (end <= input.now)
    throw invalid(`the termination date ${input.date} is in the past: choose today or later`)
  const updated: AuthorizationRow = {
    ...row,
    status: 'terminated',
    period_end: end < row.period_end ? end : row.period_end,
    terminated_at: input.now,
    updated_at: input.now,
  }
  return {
    changes: [{ tbl: 'espi_authorizations', op: 'put', row: updated }],
    summary: `authorization ${input.id} terminated: access ends ${updated.period_end}`,
    outbox: notify(consent, 'terminated', updated, input.baseUrl),
  }
}

/**
 * An administrator terminates an Authorization at once (a complaint, a suspected misuse), with a reason the
 * customer is emailed; the third party is notified as for a customer's termination.
 */
export function terminateAsAdministrator(
  { consent }: Index,
  input: { id: string; reason: string; now: string; baseUrl: string },
): Plan {
  const row = consent.authorizations.get(input.id)
  if (!row) throw notFound(`authorization ${input.id} does not exist`)
  if (row.status !== 'active' || row.period_end <= input.now)
    throw conflict(`authorization ${input.id} has already ended (${row.status}, ${row.period_end})`)
  const updated: AuthorizationRow = {
    ...row,
    status: 'terminated',
    period_end: input.now,
    terminated_at: input.now,
    updated_at: input.now,
  }
  return {
    changes: [{ tbl: 'espi_authorizations', op: 'put', row: updated }],
    summary: `authorization ${input.id} terminated by an administrator: ${input.reason}`,
    outbox: notify(consent, 'terminated', updated, input.baseUrl, input.reason),
  }
}

function notify(
  consent: ConsentModel,
  change: AuthorizationChange,
  row: AuthorizationRow,
  baseUrl: string,
  administratorReason?: string,
) {
  const customer = consent.customers.get(row.customer_id)
  const party = consent.thirdParties.get(row.client_id)
  return customer && party
    ? authorizationNotices(change, customer, party, row, baseUrl, administratorReason)
    : []
}

/** The customer `userId` is, who may grant, extend and terminate its own authorizations; else refused. */
export function requireCustomerOf(consent: ConsentModel, userId: string): CustomerRow {
  const decision = decideCustomer(consent, userId)
  enforce(decision)
  return decision.customer
}
