import { html } from '../web/html.js'
import { type ConsoleContext, type ConsoleRoutes, type Form, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * Consent in the console: third parties (register, or rotate the client secret, the secret shown on that one
 * page and never again; suspend, reinstate, revoke) and authorizations (filter by customer, third party, status and
 * end date; terminate one with a reason the customer is emailed).
 */

interface Party {
  client_id: string
  name: string
  description: string
  standing: string
}
interface Authorization {
  id: string
  status: string
  scope: string
  ends: string
  clientId: string
  customerId: string
  usagePointIds: string[]
}

export const summaryOf = (result: unknown) => ({
  text: (result as { summary: string }).summary,
  error: false,
})
const STANDING_ACTIONS = [
  { standing: 'suspended', label: 'Suspend', when: 'active' },
  { standing: 'active', label: 'Reinstate', when: 'suspended' },
  { standing: 'revoked', label: 'Revoke', when: 'any' },
] as const

async function thirdPartiesPage(c: ConsoleContext, message?: Notice) {
  // list_third_parties answers those in good standing or suspended; revoked ones are gone for good.
  const { items } = (await c.run('list_third_parties')) as { items: Party[] }
  const rotate = c.allows('rotate_client_secret')
  return {
    title: 'Third parties',
    body: html`${notice(message)}
<table><thead><tr><th scope="col">Name</th><th scope="col">Client id</th><th scope="col">What it does</th><th scope="col">Standing</th><th scope="col">Change standing</th>${rotate ? html`<th scope="col">Client secret</th>` : ''}</tr></thead>
<tbody>${items.map(
      (
        p,
      ) => html`<tr><td>${p.name}</td><td><code>${p.client_id}</code></td><td>${p.description}</td><td>${p.standing}</td>
<td>${STANDING_ACTIONS.filter((a) => a.when === 'any' || a.when === p.standing).map(
        (a) =>
          html`<form method="post" action="/console/third-parties/${encodeURIComponent(p.client_id)}/standing" class="row">${csrfField(c.csrf)}<input type="hidden" name="standing" value="${a.standing}"><button type="submit" aria-label="${a.label} ${p.name}">${a.label}</button></form>`,
      )}</td>
${rotate ? html`<td><form method="post" action="/console/third-parties/${encodeURIComponent(p.client_id)}/secret" class="row">${csrfField(c.csrf)}<button type="submit" aria-label="Rotate secret of ${p.name}">Rotate secret</button></form></td>` : ''}</tr>`,
    )}</tbody></table>
<section aria-labelledby="h-register"><h2 id="h-register">Register a third party</h2>
<p>The client secret is shown once, on the page that follows; Custodian keeps only its hash.</p>
<form method="post" action="/console/third-parties">${csrfField(c.csrf)}
<label for="tp-name">Name</label><input type="text" id="tp-name" name="name" required>
<label for="tp-description">What it does</label><input type="text" id="tp-description" name="description">
<label for="tp-redirect">Redirect URIs (one a line)</label><textarea id="tp-redirect" name="redirect_uris" rows="2" cols="50" required></textarea>
<label for="tp-notify">Notification URI</label><input type="url" id="tp-notify" name="notify_uri" required>
<label for="tp-scope">Widest scope it may ask for</label><input type="text" id="tp-scope" name="scope" required value="FB=1_3_4_5_13_14_39;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13">
<label for="tp-selection">Scope selection URI (optional)</label><input type="url" id="tp-selection" name="scope_selection_uri">
<button type="submit">Register third party</button></form></section>`,
  }
}

/** The answer to a registration: the secret, shown once. */
async function registered(c: ConsoleContext, form: Form) {
  const selection = field(form, 'scope_selection_uri')
  const result = (await c.run('register_third_party', {
    name: field(form, 'name'),
    ...(field(form, 'description') ? { description: field(form, 'description') } : {}),
    redirect_uris: field(form, 'redirect_uris')
      .split(/\r?\n/)
      .map((u) => u.trim())
      .filter(Boolean),
    notify_uri: field(form, 'notify_uri'),
    scope: field(form, 'scope'),
    ...(selection ? { scope_selection_uri: selection } : {}),
  })) as Secret
  return shownOnce('Third party registered', `${field(form, 'name')} is registered.`, result)
}

interface Secret {
  client_id: string
  client_secret: string
}

/** A client secret, on the page that answers its creation only (the page is not cached: pageHeaders). */
const shownOnce = (title: string, status: string, { client_id, client_secret }: Secret) => ({
  title,
  body: html`<p class="status" role="status">${status}</p>
<table><tbody><tr><th scope="row">Client id</th><td><code>${client_id}</code></td></tr>
<tr><th scope="row">Client secret</th><td><p class="secret" data-testid="client-secret">${client_secret}</p></td></tr></tbody></table>
<p><strong>Copy the client secret now and give it to the third party:</strong> it is not shown again. A lost secret means rotating it anew.</p>
<p><a href="/console/third-parties">Back to the third parties</a></p>`,
})

/** A new secret for a third party: the old one is refused from now on. */
async function rotated(c: ConsoleContext) {
  const result = (await c.run('rotate_client_secret', { client_id: c.params.client_id })) as Secret
  const name = c.custodian.consent.thirdParties.get(result.client_id)?.name ?? result.client_id
  return shownOnce(
    'New client secret',
    `${name} has a new client secret; the old one no longer works.`,
    result,
  )
}

const STATUSES = ['active', 'terminated', 'expired']

export interface AuthorizationFilters {
  customer: string
  third_party: string
  status: string
  /** YYYY-MM-DD: those ending on that day (UTC) or before it. */
  ends_by: string
}

const DAY = /^\d{4}-\d{2}-\d{2}$/

/** The authorizations the filters keep (an empty filter keeps all), or what is wrong with a filter. */
export function filterAuthorizations<
  A extends Pick<Authorization, 'customerId' | 'clientId' | 'status' | 'ends'>,
>(items: A[], filters: AuthorizationFilters): { shown: A[] } | { error: string } {
  if (filters.ends_by && !(DAY.test(filters.ends_by) && !Number.isNaN(Date.parse(filters.ends_by))))
    return { error: `ends_by: ${filters.ends_by} is not a date (YYYY-MM-DD)` }
  return {
    shown: items
      .filter((a) => !filters.customer || a.customerId === filters.customer)
      .filter((a) => !filters.third_party || a.clientId === filters.third_party)
      .filter((a) => !filters.status || a.status === filters.status)
      .filter((a) => !filters.ends_by || a.ends.slice(0, 10) <= filters.ends_by),
  }
}

async function authorizationsPage(c: ConsoleContext, message?: Notice) {
  const filters: AuthorizationFilters = {
    customer: field(c.query, 'customer'),
    third_party: field(c.query, 'third_party'),
    status: field(c.query, 'status'),
    ends_by: field(c.query, 'ends_by'),
  }
  const { items } = (await c.run('list_authorizations')) as { items: Authorization[] }
  const filtered = filterAuthorizations(items, filters)
  const shown = 'shown' in filtered ? filtered.shown : []
  const said = 'error' in filtered ? { text: filtered.error, error: true } : message
  const parties = new Map(c.custodian.consent.thirdParties)
  const customerName = (id: string) => {
    const customer = c.custodian.consent.customers.get(id)
    return customer ? `${customer.name} (${customer.user_id})` : id
  }
  const back = new URLSearchParams(Object.entries(filters).filter(([, v]) => v)).toString()
  return {
    title: 'Authorizations',
    body: html`${notice(said)}
<form method="get" action="/console/authorizations" role="search" class="inline">
<div><label for="f-customer">Customer</label><select id="f-customer" name="customer"><option value="">Any</option>${[...c.custodian.consent.customers.values()].map((u) => html`<option value="${u.id}"${u.id === filters.customer ? html` selected` : ''}>${customerName(u.id)}</option>`)}</select></div>
<div><label for="f-party">Third party</label><select id="f-party" name="third_party"><option value="">Any</option>${[...parties.values()].map((p) => html`<option value="${p.client_id}"${p.client_id === filters.third_party ? html` selected` : ''}>${p.name}</option>`)}</select></div>
<div><label for="f-status">Status</label><select id="f-status" name="status"><option value="">Any</option>${STATUSES.map((s) => html`<option${s === filters.status ? html` selected` : ''}>${s}</option>`)}</select></div>
<div><label for="f-ends">Ends on or before</label><input type="date" id="f-ends" name="ends_by" value="${filters.ends_by}"></div>
<button type="submit">Filter</button></form>
<p>${shown.length} of ${items.length} authorization(s).</p>
<table><thead><tr><th scope="col">Authorization</th><th scope="col">Customer</th><th scope="col">Third party</th><th scope="col">Meters</th><th scope="col">Status</th><th scope="col">Ends</th><th scope="col">Terminate</th></tr></thead>
<tbody>${shown.map(
      (
        a,
      ) => html`<tr><td><code>${a.id}</code></td><td>${customerName(a.customerId)}</td><td>${parties.get(a.clientId)?.name ?? a.clientId}</td><td>${a.usagePointIds.length}</td><td>${a.status}</td><td>${a.ends.slice(0, 16).replace('T', ' ')}</td>
<td>${
        a.status === 'active'
          ? html`<form method="post" action="/console/authorizations/${encodeURIComponent(a.id)}/terminate${back ? `?${back}` : ''}" class="inline">${csrfField(c.csrf)}
<div><label for="reason-${a.id}">Reason</label><input type="text" id="reason-${a.id}" name="reason" required></div><button type="submit">Terminate</button></form>`
          : ''
      }</td></tr>`,
    )}</tbody></table>`,
  }
}

export function consentPages(routes: ConsoleRoutes) {
  routes.page('/console/third-parties', 'thirdParties', 'Third parties: register, change standing', (c) =>
    thirdPartiesPage(c),
  )
  routes.action(
    '/console/third-parties',
    'thirdParties',
    'Registers a third party (register_third_party); the page shows its client secret once',
    {
      name: 'Its name',
      description: 'What it does',
      redirect_uris: 'Redirect URIs, one a line',
      notify_uri: 'Where notifications go',
      scope: 'The widest ESPI scope it may ask for',
      scope_selection_uri: 'Where customers starting at the utility are sent on to',
    },
    registered,
    thirdPartiesPage,
  )
  routes.action(
    '/console/third-parties/:client_id/standing',
    'thirdParties',
    'Suspends, reinstates or revokes a third party (set_third_party_standing)',
    { standing: 'active, suspended or revoked' },
    async (c, form) =>
      summaryOf(
        await c.run('set_third_party_standing', {
          client_id: c.params.client_id,
          standing: field(form, 'standing'),
        }),
      ),
    thirdPartiesPage,
  )
  routes.action(
    '/console/third-parties/:client_id/secret',
    'thirdParties',
    'Gives a third party a new client secret (rotate_client_secret), shown once; the old one stops working',
    {},
    rotated,
    thirdPartiesPage,
  )
  routes.page(
    '/console/authorizations',
    'authorizations',
    'Authorizations, filtered by customer, third party and status',
    authorizationsPage,
    { customer: 'A customer id', third_party: 'A client id', status: 'active, terminated or expired' },
  )
  routes.action(
    '/console/authorizations/:id/terminate',
    'authorizations',
    'Terminates an authorization with a reason the customer is emailed (terminate_authorization_as_administrator)',
    { reason: 'Why: the customer reads it' },
    async (c, form) =>
      summaryOf(
        await c.run('terminate_authorization_as_administrator', {
          id: c.params.id,
          reason: field(form, 'reason').trim(),
        }),
      ),
    authorizationsPage,
  )
}
