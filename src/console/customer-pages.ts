import { html } from '../web/html.js'
import { summaryOf } from './consent-pages.js'
import { type ConsoleContext, type ConsoleRoutes, type Form, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * Retail customers in the console: find one (by name, username, email, account number or meter), create
 * one, and give it usage points; each usage point links to its data on the publication pages.
 */

export interface CustomerView {
  id: string
  username: string
  name: string
  email: string
  account_number: string
  usage_points: { id: string; description: string; kind: string }[]
}

/** Customers listed at most on one page; the search narrows a longer list. */
const SHOWN = 200
const KINDS = ['electricity', 'gas', 'water']
export const usagePointPath = (id: string) => `/console/publication/usage-points/${encodeURIComponent(id)}`

const matches = (c: CustomerView, wanted: string) =>
  [c.name, c.username, c.email, c.account_number, ...c.usage_points.flatMap((u) => [u.id, u.description])]
    .map((text) => text.toLowerCase())
    .some((text) => text.includes(wanted))

async function customersPage(c: ConsoleContext, message?: Notice) {
  const q = field(c.query, 'q').trim()
  const { items } = (await c.run('list_customers')) as { items: CustomerView[] }
  const found = q ? items.filter((u) => matches(u, q.toLowerCase())) : items
  return {
    title: 'Customers',
    body: html`${notice(message)}
<form method="get" action="/console/customers" role="search" class="inline">
<div><label for="q">Find a customer (name, username, email, account or meter)</label><input type="search" id="q" name="q" value="${q}"></div><button type="submit">Find</button></form>
<p>${found.length} of ${items.length} customer(s)${q ? html` matching “${q}”` : ''}.${found.length > SHOWN ? html` The first ${SHOWN} are shown: find a customer to narrow them.` : ''}</p>
<table><caption class="visually-hidden">Retail customers</caption><thead><tr><th scope="col">Name</th><th scope="col">Username</th><th scope="col">Email</th><th scope="col">Account</th><th scope="col">Usage points</th><th scope="col">Add a usage point</th></tr></thead>
<tbody>${found.slice(0, SHOWN).map(
      (u) => html`<tr><td>${u.name}</td><td>${u.username}</td><td>${u.email}</td><td>${u.account_number}</td>
<td>${u.usage_points.length === 0 ? '—' : html`<ul class="plain">${u.usage_points.map((p) => html`<li><a href="${usagePointPath(p.id)}">${p.description || p.id}</a> (${p.kind}, <code>${p.id}</code>)</li>`)}</ul>`}</td>
<td><form method="post" action="/console/customers/${encodeURIComponent(u.username)}/usage-points" class="inline">${csrfField(c.csrf)}
<div><label for="up-desc-${u.id}">Description</label><input type="text" id="up-desc-${u.id}" name="description" required></div>
<div><label for="up-kind-${u.id}">Kind</label><select id="up-kind-${u.id}" name="kind">${KINDS.map((k) => html`<option>${k}</option>`)}</select></div>
<button type="submit" aria-label="Add usage point for ${u.name}">Add</button></form></td></tr>`,
    )}</tbody></table>
<section aria-labelledby="h-create"><h2 id="h-create">Create a customer</h2>
<p>Without a password, the customer creates the online account when first asked to sign in.</p>
<form method="post" action="/console/customers">${csrfField(c.csrf)}
<div class="inline"><div><label for="c-username">Username</label><input type="text" id="c-username" name="username" required></div>
<div><label for="c-name">Full name</label><input type="text" id="c-name" name="name" required></div>
<div><label for="c-email">Email</label><input type="email" id="c-email" name="email" required></div>
<div><label for="c-account">Account number</label><input type="text" id="c-account" name="account_number" required></div>
<div><label for="c-password">Password (optional)</label><input type="password" id="c-password" name="password" autocomplete="new-password"></div>
<button type="submit">Create customer</button></div></form></section>`,
  }
}

const createCustomer = async (c: ConsoleContext, form: Form) => {
  const password = field(form, 'password')
  return summaryOf(
    await c.run('create_customer', {
      username: field(form, 'username').trim(),
      name: field(form, 'name').trim(),
      email: field(form, 'email').trim(),
      account_number: field(form, 'account_number').trim(),
      ...(password ? { password } : {}),
    }),
  )
}

export function customerPages(routes: ConsoleRoutes) {
  routes.page(
    '/console/customers',
    'customers',
    'Retail customers and their usage points, found by name, username, email, account or meter',
    customersPage,
    { q: 'Part of a name, username, email, account number or meter' },
  )
  routes.action(
    '/console/customers',
    'customers',
    'Creates a retail customer (create_customer)',
    {
      username: 'The username the customer signs in with',
      name: 'The full name',
      email: 'Where notices go',
      account_number: 'The utility account number',
      password: 'Optional: without one the customer creates the online account',
    },
    createCustomer,
    customersPage,
  )
  routes.action(
    '/console/customers/:customer/usage-points',
    'customers',
    'Adds a usage point (meter) to a customer (create_usage_point)',
    { description: 'What the customer recognises it by', kind: 'electricity, gas or water' },
    async (c, form) =>
      summaryOf(
        await c.run('create_usage_point', {
          customer: c.params.customer,
          description: field(form, 'description').trim(),
          kind: field(form, 'kind'),
        }),
      ),
    customersPage,
  )
}
