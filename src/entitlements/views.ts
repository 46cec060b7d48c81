import { notFound } from '../errors.js'
import type { EntitlementIndex } from './entitlement-index.js'

/**
 * What administrators see of each entity: plain JSON built from the Index. Credentials show which kinds a
 * user has, never their hashes.
 */
const sorted = (values: Iterable<string> | undefined) => [...(values ?? [])].sort()

export const permissionView = (index: EntitlementIndex, id: string) => {
  const p = index.permissions.get(id)
  if (!p) throw notFound(`permission ${id} does not exist`)
  return { id: p.id, name: p.name, description: p.description, builtin: p.builtin === 1 }
}

export const roleView = (index: EntitlementIndex, id: string) => {
  const r = index.roles.get(id)
  if (!r) throw notFound(`role ${id} does not exist`)
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    permissions: sorted(index.rolePermissions.get(id)),
    roles: sorted(index.roleRoles.get(id)),
    effective_permissions: sorted(index.permissionsOfRole(id)),
  }
}

export const userView = (index: EntitlementIndex, id: string) => {
  const u = index.users.get(id)
  if (!u) throw notFound(`user ${id} does not exist`)
  const credentials: string[] = []
  if (index.passwordHashes.has(id)) credentials.push('password')
  if (index.voicePrintOf.has(id)) credentials.push('voice_print')
  return {
    id: u.id,
    name: u.name,
    credentials,
    roles: sorted(index.userRoles.get(id)),
    permissions: sorted(index.userPermissions.get(id)),
    resource_roles: sorted(index.userResourceRoles.get(id)),
  }
}

export const resourceView = (index: EntitlementIndex, id: string) => {
  const r = index.resources.get(id)
  if (!r) throw notFound(`resource ${id} does not exist`)
  return { id: r.id, description: r.description, parent: r.parent_id }
}

export const resourceRoleView = (index: EntitlementIndex, id: string) => {
  const rr = index.resourceRoles.get(id)
  if (!rr) throw notFound(`resource role ${id} does not exist`)
  return { id: rr.id, role: rr.role_id, resource: rr.resource_id }
}

/** Every kind an administrator can list, by the name the HTTP paths and the CLI use. */
export const entityViews = {
  permissions: { all: (i: EntitlementIndex) => i.permissions.keys(), one: permissionView },
  roles: { all: (i: EntitlementIndex) => i.roles.keys(), one: roleView },
  users: { all: (i: EntitlementIndex) => i.users.keys(), one: userView },
  resources: { all: (i: EntitlementIndex) => i.resources.keys(), one: resourceView },
  'resource-roles': { all: (i: EntitlementIndex) => i.resourceRoles.keys(), one: resourceRoleView },
} as const

export type EntityKind = keyof typeof entityViews

export function listEntities(index: EntitlementIndex, kind: EntityKind): unknown[] {
  const view = entityViews[kind]
  return sorted(view.all(index)).map((id) => view.one(index, id))
}

/**
 * A user's sessions that are still open at `nowMs`: not ended, not expired, not idle past their timeout
 * (as the Index last saw them used), oldest first. Only ids and times: a token's secret is never stored.
 */
export function openSessions(index: EntitlementIndex, userId: string, nowMs: number) {
  if (!index.users.has(userId)) throw notFound(`user ${userId} does not exist`)
  return [...index.tokens.values()]
    .filter(
      (t) =>
        t.user_id === userId &&
        t.ended_at === null &&
        Date.parse(t.expires_at) > nowMs &&
        Date.parse(t.last_used_at) + t.idle_timeout_seconds * 1000 > nowMs,
    )
    .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id))
    .map((t) => ({
      token_id: t.id,
      method: t.method,
      created_at: t.created_at,
      expires_at: t.expires_at,
      last_used_at: t.last_used_at,
    }))
}
