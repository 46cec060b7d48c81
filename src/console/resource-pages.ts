import { html, type Markup } from '../web/html.js'
import { summaryOf } from './entitlement-pages.js'
import { itemsOf, options, postButton } from './forms.js'
import { type ConsoleContext, type ConsoleRoutes, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * Resources and resource roles in the console. Resources are shown as the tree they form (a nested list,
 * which screen readers announce level by level), each with the resource roles bound to it; a resource is
 * created inside a parent and deleted when it has no children and no resource role. A resource role binds a
 * role to a resource, and so to everything inside it.
 */

interface ResourceView {
  id: string
  description: string
  parent: string | null
}
interface ResourceRoleView {
  id: string
  role: string
  resource: string
}

/** Each resource's children, and the roots: those with no parent, or a parent that is not registered. */
function resourceTree(resources: readonly ResourceView[]) {
  const ids = new Set(resources.map((r) => r.id))
  const children = new Map<string, ResourceView[]>()
  const roots: ResourceView[] = []
  for (const r of [...resources].sort((a, b) => a.id.localeCompare(b.id))) {
    if (r.parent === null || !ids.has(r.parent)) roots.push(r)
    else children.set(r.parent, [...(children.get(r.parent) ?? []), r])
  }
  return { roots, children }
}

async function resourcesPage(c: ConsoleContext, message?: Notice) {
  const [resources, resourceRoles] = await Promise.all([
    itemsOf<ResourceView>(c, 'list_resources'),
    itemsOf<ResourceRoleView>(c, 'list_resource_roles'),
  ])
  const { roots, children } = resourceTree(resources)
  const bound = (id: string) => resourceRoles.filter((rr) => rr.resource === id).map((rr) => rr.id)
  // A loop in broken data is shown once, not followed.
  const shown = new Set<string>()
  const branch = (r: ResourceView): Markup => {
    shown.add(r.id)
    const below = (children.get(r.id) ?? []).filter((child) => !shown.has(child.id))
    const roles = bound(r.id)
    return html`<li><strong>${r.id}</strong>${r.description ? html` — ${r.description}` : ''}${roles.length > 0 ? html` (resource roles: ${roles.join(', ')})` : ''}
${postButton(c, `/console/resources/${encodeURIComponent(r.id)}/delete`, `Delete ${r.id}`)}
${below.length > 0 ? html`<ul>${below.map(branch)}</ul>` : ''}</li>`
  }
  return {
    title: 'Resources',
    body: html`${notice(message)}
<p>${resources.length} resource(s). A permission held on a resource through a resource role holds on everything inside it. A resource with something inside it or a resource role bound to it cannot be deleted.</p>
${roots.length === 0 ? html`<p>No resource yet.</p>` : html`<ul class="tree" aria-label="Resources, each inside its parent">${roots.map(branch)}</ul>`}
<section aria-labelledby="h-create-resource"><h2 id="h-create-resource">Create a resource</h2>
<form method="post" action="/console/resources">${csrfField(c.csrf)}
<div class="inline"><div><label for="r-id">New resource id</label><input type="text" id="r-id" name="id" required></div>
<div><label for="r-description">Description</label><input type="text" id="r-description" name="description"></div>
<div><label for="r-parent">Parent resource</label><select id="r-parent" name="parent"><option value="">nothing (at the top)</option>${options(resources.map((r) => r.id))}</select></div>
<button type="submit">Create resource</button></div></form></section>`,
  }
}

async function resourceRolesPage(c: ConsoleContext, message?: Notice) {
  const [resourceRoles, resources] = await Promise.all([
    itemsOf<ResourceRoleView>(c, 'list_resource_roles'),
    itemsOf<ResourceView>(c, 'list_resources'),
  ])
  // The roles to choose from, where the administrator may list them; else typed by id.
  const roles = c.allows('list_roles')
    ? (await itemsOf<{ id: string }>(c, 'list_roles')).map((r) => r.id)
    : []
  return {
    title: 'Resource roles',
    body: html`${notice(message)}
<p>${resourceRoles.length} resource role(s). Each gives its holders a role on a resource and on everything inside it; users are given one on their own page.</p>
<table><caption class="visually-hidden">Resource roles</caption><thead><tr><th scope="col">Resource role</th><th scope="col">Role</th><th scope="col">On resource</th><th scope="col">Delete</th></tr></thead>
<tbody>${resourceRoles.map(
      (rr) =>
        html`<tr><th scope="row"><code>${rr.id}</code></th><td>${rr.role}</td><td>${rr.resource}</td><td>${postButton(c, `/console/resource-roles/${encodeURIComponent(rr.id)}/delete`, `Delete ${rr.id}`)}</td></tr>`,
    )}</tbody></table>
<section aria-labelledby="h-create-rr"><h2 id="h-create-rr">Create a resource role</h2>
<form method="post" action="/console/resource-roles">${csrfField(c.csrf)}
<div class="inline"><div><label for="rr-id">New resource role id</label><input type="text" id="rr-id" name="id" required></div>
<div><label for="rr-role">Role</label><input type="text" id="rr-role" name="role" list="rr-roles" required><datalist id="rr-roles">${roles.map((r) => html`<option value="${r}"></option>`)}</datalist></div>
<div><label for="rr-resource">On resource</label><select id="rr-resource" name="resource" required><option value="">Choose…</option>${options(resources.map((r) => r.id))}</select></div>
<button type="submit">Create resource role</button></div></form></section>`,
  }
}

export function resourcePages(routes: ConsoleRoutes) {
  routes.page('/console/resources', 'resources', 'Resources as a tree; create one', resourcesPage)
  routes.action(
    '/console/resources',
    'resources',
    'Creates a resource, inside a parent or at the top (create_resource)',
    { id: 'The new id', description: 'What it is', parent: 'The resource it is inside ("": none)' },
    async (c, form) => {
      const parent = field(form, 'parent')
      return summaryOf(
        await c.run('create_resource', {
          id: field(form, 'id').trim(),
          description: field(form, 'description').trim(),
          ...(parent ? { parent } : {}),
        }),
      )
    },
    resourcesPage,
  )
  routes.action(
    '/console/resources/:id/delete',
    'resources',
    'Deletes a resource with nothing inside it and no resource role (delete_resource)',
    {},
    async (c) => summaryOf(await c.run('delete_resource', { id: c.params.id })),
    resourcesPage,
  )
  routes.page('/console/resource-roles', 'resourceRoles', 'Resource roles; create one', resourceRolesPage)
  routes.action(
    '/console/resource-roles',
    'resourceRoles',
    'Binds a role to a resource (create_resource_role)',
    { id: 'The new id', role: 'The role', resource: 'The resource' },
    async (c, form) =>
      summaryOf(
        await c.run('create_resource_role', {
          id: field(form, 'id').trim(),
          role: field(form, 'role').trim(),
          resource: field(form, 'resource'),
        }),
      ),
    resourceRolesPage,
  )
  routes.action(
    '/console/resource-roles/:id/delete',
    'resourceRoles',
    'Deletes a resource role and its grants (delete_resource_role)',
    {},
    async (c) => summaryOf(await c.run('delete_resource_role', { id: c.params.id })),
    resourceRolesPage,
  )
}
