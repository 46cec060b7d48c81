import {
  extendAuthorization,
  grantAuthorization,
  setStanding,
  terminateAuthorization,
} from '../../../src/consent/changes.js'
import { ConsentModel } from '../../../src/consent/consent-model.js'
import { completeScope, parseEspiScope, scopeWithin } from '../../../src/consent/espi-scope.js'
import { authorizationAccess } from '../../../src/consent/rules.js'
import { EntitlementIndex } from '../../../src/entitlements/entitlement-index.js'
import { CustodianError } from '../../../src/errors.js'
import { dataWindow, kindAllowed } from '../../../src/greenbutton/data-window.js'
import { HouseModel } from '../../../src/housemate/house-model.js'
import type { Index } from '../../../src/kernel/projections.js'
import type { Plan } from '../../../src/kernel/write-plan.js'
import { CatalogModel } from '../../../src/licences/catalog-model.js'
import type { PlannedChange } from '../../../src/store/store.js'
import { RegisterModel } from '../../../src/trust/register-model.js'
import {
  type Answer,
  applyAll,
  type DomainAdapter,
  field,
  optional,
  type Question,
  strings,
} from './adapter.js'

/**
 * ESPI consent (the seed's use cases: grant, extend, terminate, scope, period). A model:
 *   now: ISO time                    third_parties: {client_id: {scope, standing}}
 *   customers: {id: [usage point ids]}
 * Questions, asked in order; one that plans a change applies it when it succeeds:
 *   {grant: id, customer, client, usage_points: [...], scope, until, at}   (grantAuthorization)
 *   {extend: id, customer, until, at}    {terminate: id, customer, date, at}    {standing: client, to, at}
 *   {access: id, client, at}  (authorizationAccess), with the Authorization's data window at that time
 *                               as `window` and, given `kind` (and `interval`), whether the scope reaches it
 *   {scope: asked, allowance}  (scopeWithin; `recorded` is the scope an Authorization would record)
 * A refused change answers allowed false with the error's code and message.
 */
const BASE_URL = 'https://utility.example'

const worldOf = (consent: ConsentModel): Index => ({
  index: new EntitlementIndex(),
  model: new HouseModel(),
  consent,
  catalog: new CatalogModel(),
  register: new RegisterModel(),
})

function planned(consent: ConsentModel, plan: () => Plan): Answer {
  try {
    const { changes, summary } = plan()
    applyAll(consent, changes)
    return { allowed: true, reason: summary }
  } catch (error) {
    if (!(error instanceof CustodianError)) throw error
    return { allowed: false, reason: error.message, code: error.code }
  }
}

const unreadable = ({ part, reason }: { part: string; reason: string }): Answer => ({
  allowed: false,
  reason: `${part ? `${part}: ` : ''}${reason}`,
})

function scope(q: Question): Answer {
  const allowanceText = field<string>(q, 'allowance', 'string')
  const asked = parseEspiScope(field(q, 'scope', 'string'))
  if (!asked.ok) return unreadable(asked)
  const allowance = parseEspiScope(allowanceText)
  if (!allowance.ok) return unreadable(allowance)
  const within = scopeWithin(asked.scope, allowance.scope)
  return within.ok
    ? {
        allowed: true,
        reason: 'within the allowance',
        recorded: completeScope(asked.scope, allowance.scope).text,
      }
    : { allowed: false, reason: within.reason }
}

function access(consent: ConsentModel, q: Question, now: string): Answer {
  const id = field<string>(q, 'access', 'string')
  const ms = Date.parse(now)
  const decision = authorizationAccess(consent, id, field(q, 'client', 'string'), ms)
  const row = consent.authorizations.get(id)
  if (!row) return decision
  const window = dataWindow(row, ms)
  const kind = optional<string>(q, 'kind', 'string')
  return {
    ...decision,
    authorization: row,
    window: {
      usagePoints: [...window.usagePointIds],
      from: window.from,
      to: window.to,
      functionBlocks: [...window.functionBlocks],
      intervalDurations: window.intervalDurations,
    },
    ...(kind === undefined
      ? {}
      : { kindAllowed: kindAllowed(window, kind, optional(q, 'interval', 'number')) }),
  }
}

export const consent: DomainAdapter<{ consent: ConsentModel; now: string }> = {
  build(model) {
    const m = (model ?? {}) as Question
    const now = field<string>(m, 'now', 'string')
    const changes: PlannedChange[] = []
    for (const [client_id, p] of Object.entries(
      (optional<Question>(m, 'third_parties', 'object') ?? {}) as Question,
    )) {
      const of = p as Question
      changes.push({
        tbl: 'espi_third_parties',
        op: 'put',
        row: {
          client_id,
          secret_hash: '',
          name: client_id,
          description: client_id,
          redirect_uris: JSON.stringify([`https://${client_id}.example/cb`]),
          notify_uri: `https://${client_id}.example/notify`,
          scope: field(of, 'scope', 'string'),
          scope_selection_uri: null,
          standing: (optional<string>(of, 'standing', 'string') ?? 'active') as 'active',
          created_at: now,
          updated_at: now,
        },
      })
    }
    for (const [id, points] of Object.entries(
      (optional<Question>(m, 'customers', 'object') ?? {}) as Question,
    )) {
      changes.push({
        tbl: 'espi_customers',
        op: 'put',
        row: { id, user_id: id, name: id, email: `${id}@example.org`, account_number: id, created_at: now },
      })
      for (const point of strings({ points }, 'points'))
        changes.push({
          tbl: 'espi_usage_points',
          op: 'put',
          row: {
            id: point,
            customer_id: id,
            description: point,
            service_kind: 'electricity',
            created_at: now,
          },
        })
    }
    return { consent: applyAll(new ConsentModel(), changes), now }
  },
  ask({ consent, now: modelNow }, q) {
    const now = optional<string>(q, 'at', 'string') ?? modelNow
    const world = worldOf(consent)
    const common = { now, baseUrl: BASE_URL }
    if (q.grant !== undefined) {
      const id = field<string>(q, 'grant', 'string')
      return planned(consent, () =>
        grantAuthorization(world, {
          ...common,
          id,
          subscriptionId: `subscription-${id}`,
          customerId: field(q, 'customer', 'string'),
          clientId: field(q, 'client', 'string'),
          usagePointIds: strings(q, 'usage_points'),
          scope: field(q, 'scope', 'string'),
          periodEnd: field(q, 'until', 'string'),
        }),
      )
    }
    if (q.extend !== undefined)
      return planned(consent, () =>
        extendAuthorization(world, {
          ...common,
          id: field(q, 'extend', 'string'),
          customerId: field(q, 'customer', 'string'),
          periodEnd: field(q, 'until', 'string'),
        }),
      )
    if (q.terminate !== undefined)
      return planned(consent, () =>
        terminateAuthorization(world, {
          ...common,
          id: field(q, 'terminate', 'string'),
          customerId: field(q, 'customer', 'string'),
          date: field(q, 'date', 'string'),
        }),
      )
    if (q.standing !== undefined)
      return planned(consent, () =>
        setStanding(world, field(q, 'standing', 'string'), field(q, 'to', 'string'), now),
      )
    if (q.access !== undefined) return access(consent, q, now)
    if (q.scope !== undefined) return scope(q)
    throw new Error(
      `a consent question asks grant, extend, terminate, standing, access or scope: ${JSON.stringify(q)}`,
    )
  },
  revision: ({ consent }) => consent.revision,
}
