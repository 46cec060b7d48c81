import { html } from '../web/html.js'
import { list, summaryOf } from './entitlement-pages.js'
import { definitionForm, itemsOf, postButton } from './forms.js'
import { type ConsoleContext, type ConsoleRoutes, type Form, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * Permissions and roles in the console: list, define and delete them; one role's page with its permissions
 * and nested roles, to which permissions and roles are added and from which they are removed. Every action
 * is the operation the API runs (define_permission, add_entitlement_to_role, ...).
 */

interface PermissionView {
  id: string
  name: string
  description: string
  builtin: boolean
}
interface RoleView {
  id: string
  name: string
  description: string
  permissions: string[]
  roles: string[]
  effective_permissions: string[]
}

const rolePath = (id: string) => `/console/roles/${encodeURIComponent(id)}`
const described = (form: Form) => ({
  id: field(form, 'id').trim(),
  name: field(form, 'name').trim(),
  description: field(form, 'description').trim(),
})

async function permissionsPage(c: ConsoleContext, message?: Notice) {
  const items = await itemsOf<PermissionView>(c, 'list_permissions')
  return {
    title: 'Permissions',
    body: html`${notice(message)}
<p>${items.length} permission(s). Deleting a permission takes it out of every role and grant that carries it.</p>
<table><caption class="visually-hidden">Permissions</caption><thead><tr><th scope="col">Permission</th><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Delete</th></tr></thead>
<tbody>${items.map(
      (p) => html`<tr><th scope="row"><code>${p.id}</code></th><td>${p.name}</td><td>${p.description}</td>
<td>${p.builtin ? 'built in' : postButton(c, `/console/permissions/${encodeURIComponent(p.id)}/delete`, `Delete ${p.id}`)}</td></tr>`,
    )}</tbody></table>
${definitionForm(c, 'permission', '/console/permissions')}`,
  }
}

async function rolesPage(c: ConsoleContext, message?: Notice) {
  const items = await itemsOf<RoleView>(c, 'list_roles')
  return {
    title: 'Roles',
    body: html`${notice(message)}
<p>${items.length} role(s). A role carries permissions and nested roles, whose permissions it carries too.</p>
<table><caption class="visually-hidden">Roles</caption><thead><tr><th scope="col">Role</th><th scope="col">Name</th><th scope="col">Permissions</th><th scope="col">Nested roles</th></tr></thead>
<tbody>${items.map(
      (r) =>
        html`<tr><th scope="row"><a href="${rolePath(r.id)}">${r.id}</a></th><td>${r.name}</td><td>${list(r.permissions)}</td><td>${list(r.roles)}</td></tr>`,
    )}</tbody></table>
${definitionForm(c, 'role', '/console/roles')}`,
  }
}

async function rolePage(c: ConsoleContext, message?: Notice) {
  const id = c.params.id ?? ''
  const role = (await c.run('read_role', { id })) as RoleView
  const [permissions, roles] = await Promise.all([
    itemsOf<PermissionView>(c, 'list_permissions'),
    itemsOf<RoleView>(c, 'list_roles'),
  ])
  const held = new Set([...role.permissions, ...role.roles])
  const choices = [...permissions.map((p) => p.id), ...roles.map((r) => r.id).filter((r) => r !== id)]
  const remove = (member: string, kind: string) =>
    html`<li>${kind} <code>${member}</code> ${postButton(c, `${rolePath(id)}/entitlements/${encodeURIComponent(member)}/remove`, `Remove ${member}`)}</li>`
  return {
    title: `Role ${role.id}`,
    body: html`${notice(message)}
<p><a href="/console/roles">All roles</a></p>
<table><tbody><tr><th scope="row">Name</th><td>${role.name}</td></tr>
<tr><th scope="row">Description</th><td>${role.description}</td></tr>
<tr><th scope="row">Permissions it carries, nested roles’ included</th><td>${list(role.effective_permissions)}</td></tr></tbody></table>
<section aria-labelledby="h-entitlements"><h2 id="h-entitlements">Permissions and nested roles</h2>
${
  held.size === 0
    ? html`<p>None yet.</p>`
    : html`<ul>${role.permissions.map((p) => remove(p, 'Permission'))}${role.roles.map((r) => remove(r, 'Nested role'))}</ul>`
}
<form method="post" action="${rolePath(id)}/entitlements">${csrfField(c.csrf)}
<div class="inline"><div><label for="member">Permission or role to add</label><input type="text" id="member" name="member" list="member-choices" required>
<datalist id="member-choices">${choices.filter((m) => !held.has(m)).map((m) => html`<option value="${m}"></option>`)}</datalist></div>
<button type="submit">Add to ${role.id}</button></div></form></section>
<section aria-labelledby="h-delete"><h2 id="h-delete">Delete the role</h2>
<p>Refused while a resource role binds it; its grants to users go with it.</p>
${postButton(c, `${rolePath(id)}/delete`, `Delete role ${role.id}`)}</section>`,
  }
}

export function rolePages(routes: ConsoleRoutes) {
  const definition = { id: 'The new id', name: 'Its name', description: 'What it is for' }
  routes.page('/console/permissions', 'permissions', 'Permissions: define and delete them', permissionsPage)
  routes.action(
    '/console/permissions',
    'permissions',
    'Defines a permission (define_permission)',
    definition,
    async (c, form) => summaryOf(await c.run('define_permission', described(form))),
    permissionsPage,
  )
  routes.action(
    '/console/permissions/:id/delete',
    'permissions',
    'Deletes a permission and its grants (delete_permission)',
    {},
    async (c) => summaryOf(await c.run('delete_permission', { id: c.params.id })),
    permissionsPage,
  )
  routes.page('/console/roles', 'roles', 'Roles: their permissions and nested roles; define one', rolesPage)
  routes.action(
    '/console/roles',
    'roles',
    'Defines a role (define_role)',
    definition,
    async (c, form) => summaryOf(await c.run('define_role', described(form))),
    rolesPage,
  )
  routes.page('/console/roles/:id', 'roles', 'One role: its permissions and nested roles', rolePage)
  routes.action(
    '/console/roles/:id/entitlements',
    'roles',
    'Adds a permission or nested role to the role (add_entitlement_to_role)',
    { member: 'The permission or role' },
    async (c, form) =>
      summaryOf(
        await c.run('add_entitlement_to_role', { id: c.params.id, member: field(form, 'member').trim() }),
      ),
    rolePage,
  )
  routes.action(
    '/console/roles/:id/entitlements/:member/remove',
    'roles',
    'Removes a permission or nested role from the role (remove_entitlement_from_role)',
    {},
    async (c) =>
      summaryOf(await c.run('remove_entitlement_from_role', { id: c.params.id, member: c.params.member })),
    rolePage,
  )
  routes.action(
    '/console/roles/:id/delete',
    'roles',
    'Deletes the role (delete_role)',
    {},
    async (c) => summaryOf(await c.run('delete_role', { id: c.params.id })),
    rolesPage,
  )
}
