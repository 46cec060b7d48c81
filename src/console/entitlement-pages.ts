import { html } from '../web/html.js'
import { itemsOf } from './forms.js'
import { type ConsoleContext, type ConsoleRoutes, type Form, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * Entitlements in the console: users (find, create, set or clear a credential, grant a resource role, see
 * and end sessions) and the "explain" form, which asks check_access_batch about another user and shows the
 * decision with the reason the API gives: which role, through which resource role and ancestor.
 */

interface UserView {
  id: string
  name: string
  credentials: string[]
  roles: string[]
  permissions: string[]
  resource_roles: string[]
}
interface Session {
  token_id: string
  method: string
  created_at: string
  expires_at: string
  last_used_at: string
}

/** Users listed at most on one page; the search narrows a longer list. */
const SHOWN = 200
/** Ids for a table cell: a dash for none. */
export const list = (values: readonly string[]) => (values.length === 0 ? '—' : values.join(', '))
const userPath = (id: string) => `/console/users/${encodeURIComponent(id)}`
/** A change's summary as the notice of the page that follows. */
export const summaryOf = (result: unknown) => ({
  text: (result as { summary: string }).summary,
  error: false,
})

async function usersPage(c: ConsoleContext, message?: Notice) {
  const q = field(c.query, 'q').trim()
  const wanted = q.toLowerCase()
  const { items } = (await c.run('list_users')) as { items: UserView[] }
  const found = q
    ? items.filter((u) => u.id.toLowerCase().includes(wanted) || u.name.toLowerCase().includes(wanted))
    : items
  return {
    title: 'Users',
    body: html`${notice(message)}
<form method="get" action="/console/users" role="search" class="inline">
<div><label for="q">Find a user (id or name)</label><input type="search" id="q" name="q" value="${q}"></div><button type="submit">Find</button></form>
<p>${found.length} of ${items.length} user(s)${q ? html` matching “${q}”` : ''}.${found.length > SHOWN ? html` The first ${SHOWN} are shown: find a user to narrow them.` : ''}</p>
<table><caption class="visually-hidden">Users</caption><thead><tr><th scope="col">User</th><th scope="col">Name</th><th scope="col">Credentials</th><th scope="col">Roles and permissions</th><th scope="col">Resource roles</th></tr></thead>
<tbody>${found.slice(0, SHOWN).map((u) => html`<tr><td><a href="${userPath(u.id)}">${u.id}</a></td><td>${u.name}</td><td>${list(u.credentials)}</td><td>${list([...u.roles, ...u.permissions])}</td><td>${list(u.resource_roles)}</td></tr>`)}</tbody></table>
<section aria-labelledby="h-create"><h2 id="h-create">Create a user</h2>
<form method="post" action="/console/users">${csrfField(c.csrf)}
<div class="inline"><div><label for="new-id">User id</label><input type="text" id="new-id" name="id" required></div>
<div><label for="new-name">Name</label><input type="text" id="new-name" name="name" required></div>
<button type="submit">Create user</button></div></form></section>`,
  }
}

async function userPage(c: ConsoleContext, message?: Notice) {
  const id = c.params.id ?? ''
  const user = (await c.run('read_user', { id })) as UserView
  const { items: sessions } = (await c.run('list_sessions', { id })) as { items: Session[] }
  // The resource roles to choose from, where the administrator may list them; else typed by id.
  const choices = c.allows('list_resource_roles') ? await listedIds(c, 'list_resource_roles') : []
  const roles = [
    ...(c.allows('list_roles') ? await listedIds(c, 'list_roles') : []),
    ...(c.allows('list_permissions') ? await listedIds(c, 'list_permissions') : []),
  ]
  const action = (what: string) => `${userPath(id)}/${what}`
  return {
    title: `User ${user.id}`,
    body: html`${notice(message)}
<p><a href="/console/users">All users</a></p>
<table><tbody><tr><th scope="row">Name</th><td>${user.name}</td></tr>
<tr><th scope="row">Credentials</th><td>${list(user.credentials)}</td></tr>
<tr><th scope="row">Roles</th><td>${list(user.roles)}</td></tr>
<tr><th scope="row">Permissions</th><td>${list(user.permissions)}</td></tr>
<tr><th scope="row">Resource roles</th><td>${list(user.resource_roles)}</td></tr></tbody></table>
<section aria-labelledby="h-credentials"><h2 id="h-credentials">Credentials</h2>
<form method="post" action="${action('credentials')}">${csrfField(c.csrf)}
<div class="inline"><div><label for="kind">Kind</label><select id="kind" name="kind"><option value="password">password</option><option value="voice_print">voice print</option></select></div>
<div><label for="credential">New value</label><input type="password" id="credential" name="value" autocomplete="new-password" required></div>
<button type="submit">Set credential</button></div></form>
${user.credentials.map((kind) => html`<form method="post" action="${action(`credentials/${kind}/remove`)}" class="row">${csrfField(c.csrf)}<button type="submit">Clear ${kind.replace('_', ' ')}</button></form>`)}
</section>
<section aria-labelledby="h-grant-role"><h2 id="h-grant-role">Give a role or permission on every resource</h2>
<form method="post" action="${action('roles')}">${csrfField(c.csrf)}
<div class="inline"><div><label for="role">Role or permission</label><input type="text" id="role" name="member" list="role-choices" required>
<datalist id="role-choices">${roles.map((r) => html`<option value="${r}"></option>`)}</datalist></div>
<button type="submit">Give role or permission</button></div></form>
${[...user.roles, ...user.permissions].map((r) => html`<form method="post" action="${action(`roles/${encodeURIComponent(r)}/remove`)}" class="row">${csrfField(c.csrf)}<button type="submit">Take away ${r}</button></form>`)}
</section>
<section aria-labelledby="h-grant"><h2 id="h-grant">Give a resource role</h2>
<form method="post" action="${action('resource-roles')}">${csrfField(c.csrf)}
<div class="inline"><div><label for="resource-role">Resource role</label><input type="text" id="resource-role" name="resource_role" list="resource-role-choices" required>
<datalist id="resource-role-choices">${choices.map((r) => html`<option value="${r}"></option>`)}</datalist></div>
<button type="submit">Give resource role</button></div></form>
${user.resource_roles.map((r) => html`<form method="post" action="${action(`resource-roles/${encodeURIComponent(r)}/remove`)}" class="row">${csrfField(c.csrf)}<button type="submit">Take away ${r}</button></form>`)}
</section>
<section aria-labelledby="h-sessions"><h2 id="h-sessions">Open sessions</h2>
${
  sessions.length === 0
    ? html`<p>No open session.</p>`
    : html`<table><thead><tr><th scope="col">Token id</th><th scope="col">Logged in by</th><th scope="col">Since</th><th scope="col">Last used</th><th scope="col">Expires</th></tr></thead>
<tbody>${sessions.map((s) => html`<tr><td><code>${s.token_id}</code></td><td>${s.method}</td><td>${s.created_at}</td><td>${s.last_used_at}</td><td>${s.expires_at}</td></tr>`)}</tbody></table>
<form method="post" action="${action('sessions/end')}">${csrfField(c.csrf)}<button type="submit">End every session of ${user.id}</button></form>`
}</section>
<section aria-labelledby="h-delete"><h2 id="h-delete">Delete the user</h2>
<p>Its credentials and grants go with it, and its sessions end.</p>
<form method="post" action="${action('delete')}">${csrfField(c.csrf)}<button type="submit">Delete user ${user.id}</button></form></section>`,
  }
}

const listedIds = async (c: ConsoleContext, listing: string) =>
  (await itemsOf<{ id: string }>(c, listing)).map((item) => item.id)

/** The ids of a kind to choose from in the explain form (the first SHOWN: any other may be typed). */
const ids = async (c: ConsoleContext, listing: string) =>
  (await listedIds(c, listing)).slice(0, SHOWN).map((id) => html`<option value="${id}"></option>`)

async function explainPage(c: ConsoleContext, message?: Notice, answer?: Answer) {
  const q = answer?.question ?? { user: '', permission: '', resource: '' }
  const [users, permissions, resources] = await Promise.all(
    ['list_users', 'list_permissions', 'list_resources'].map((listing) => ids(c, listing)),
  )
  return {
    title: 'Explain a decision',
    body: html`${notice(message)}
<p>Ask what the access check answers for a user, a permission and a resource, and why. The question is recorded in the audit log like any check.</p>
<form method="post" action="/console/explain">${csrfField(c.csrf)}
<div class="inline"><div><label for="x-user">User</label><input type="text" id="x-user" name="user" value="${q.user}" list="x-users" required><datalist id="x-users">${users}</datalist></div>
<div><label for="x-permission">Permission</label><input type="text" id="x-permission" name="permission" value="${q.permission}" list="x-permissions" required><datalist id="x-permissions">${permissions}</datalist></div>
<div><label for="x-resource">Resource</label><input type="text" id="x-resource" name="resource" value="${q.resource}" list="x-resources" required><datalist id="x-resources">${resources}</datalist></div>
<button type="submit">Explain</button></div></form>
${
  answer
    ? html`<section aria-labelledby="h-decision"><h2 id="h-decision">Decision</h2>
<p><span class="${answer.allowed ? 'allowed' : 'denied'}">${answer.allowed ? 'Allowed' : 'Denied'}</span>: may ${q.user} use ${q.permission} on ${q.resource}?</p>
<p>Why: <span data-testid="reason">${answer.reason}</span></p><p>At revision ${answer.revision}.</p></section>`
    : ''
}`,
  }
}

interface Answer {
  question: { user: string; permission: string; resource: string }
  allowed: boolean
  reason: string
  revision: number
}

export function entitlementPages(routes: ConsoleRoutes) {
  const userAction = (
    what: string,
    summary: string,
    fields: Record<string, string>,
    act: (c: ConsoleContext, id: string, form: Form) => Promise<unknown>,
  ) =>
    routes.action(
      `/console/users/:id/${what}`,
      'users',
      summary,
      fields,
      async (c, form) => summaryOf(await act(c, c.params.id ?? '', form)),
      userPage,
    )

  routes.page('/console/users', 'users', 'Users: find one, create one', usersPage, {
    q: 'Part of an id or name',
  })
  routes.action(
    '/console/users',
    'users',
    'Creates a user (create_user)',
    { id: 'The user id', name: 'Its name' },
    async (c, form) =>
      summaryOf(await c.run('create_user', { id: field(form, 'id'), name: field(form, 'name') })),
    usersPage,
  )
  routes.page('/console/users/:id', 'users', 'One user: credentials, resource roles, sessions', userPage)
  userAction(
    'credentials',
    'Sets a password or voice print (add_user_credential)',
    { kind: 'password or voice_print', value: 'The new value' },
    (c, id, form) =>
      c.run('add_user_credential', { id, kind: field(form, 'kind'), value: field(form, 'value') }),
  )
  userAction('credentials/:kind/remove', 'Clears a credential (remove_user_credential)', {}, (c, id) =>
    c.run('remove_user_credential', { id, kind: c.params.kind }),
  )
  userAction(
    'resource-roles',
    'Gives the user a resource role (add_resource_role_to_user)',
    { resource_role: 'The resource role' },
    (c, id, form) => c.run('add_resource_role_to_user', { id, member: field(form, 'resource_role') }),
  )
  userAction(
    'resource-roles/:member/remove',
    'Takes a resource role away (remove_resource_role_from_user)',
    {},
    (c, id) => c.run('remove_resource_role_from_user', { id, member: c.params.member }),
  )
  userAction(
    'roles',
    'Gives the user a role or permission on every resource (add_role_to_user)',
    { member: 'The role or permission' },
    (c, id, form) => c.run('add_role_to_user', { id, member: field(form, 'member').trim() }),
  )
  userAction('roles/:member/remove', 'Takes a role or permission away (remove_role_from_user)', {}, (c, id) =>
    c.run('remove_role_from_user', { id, member: c.params.member }),
  )
  routes.action(
    '/console/users/:id/delete',
    'users',
    'Deletes the user, its credentials and grants, and ends its sessions (delete_user)',
    {},
    async (c) => summaryOf(await c.run('delete_user', { id: c.params.id })),
    usersPage,
  )
  userAction('sessions/end', 'Ends every open session of the user (end_sessions)', {}, (c, id) =>
    c.run('end_sessions', { id }),
  )

  routes.page('/console/explain', 'explain', 'The explain form', (c) => explainPage(c))
  routes.action(
    '/console/explain',
    'explain',
    "Explains a decision: check_access_batch about the user, with the API's reason",
    { user: 'The user', permission: 'The permission', resource: 'The resource' },
    async (c, form) => {
      const question = {
        user: field(form, 'user'),
        permission: field(form, 'permission'),
        resource: field(form, 'resource'),
      }
      const { answers } = (await c.run('check_access_batch', { questions: [question] })) as {
        answers: { allowed: boolean; reason: string; revision: number }[]
      }
      const [answer] = answers
      if (!answer) throw new Error('check_access_batch answered no question')
      return explainPage(c, undefined, { question, ...answer })
    },
    (c, message) => explainPage(c, message),
  )
}
