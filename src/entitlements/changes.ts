import { conflict, invalid, notFound } from '../errors.js'
import type { Plan } from '../kernel/write-plan.js'
import type { AccessTokenRow, CredentialKind, GrantKind } from '../store/schema.js'
import type { PlannedChange } from '../store/store.js'
import { checkId } from '../validation.js'
import { keepingAnAdministrator } from './administrator-guard.js'
import type { EntitlementIndex } from './entitlement-index.js'

/**
 * Pure write planners of the entitlements: each checks a request against the Index (caught up to the store
 * under the write lock) and returns the row changes to commit, or throws a CustodianError naming what is
 * wrong. No I/O.
 */

function checkText(field: string, value: string): void {
  if (value.length > 2_000) throw invalid(`${field} is too long (${value.length} characters; at most 2000)`)
}

function requireRole(index: EntitlementIndex, id: string): void {
  if (!index.roles.has(id)) throw notFound(`role ${id} does not exist`)
}

function requireUser(index: EntitlementIndex, id: string): void {
  if (!index.users.has(id)) throw notFound(`user ${id} does not exist`)
}

function entitlementKind(index: EntitlementIndex, id: string): 'role' | 'permission' {
  if (index.roles.has(id)) return 'role'
  if (index.permissions.has(id)) return 'permission'
  throw notFound(`${id} is neither a role nor a permission`)
}

function requireFreeEntitlementId(index: EntitlementIndex, id: string): void {
  if (index.permissions.has(id)) throw conflict(`a permission with id ${id} already exists`)
  if (index.roles.has(id)) throw conflict(`a role with id ${id} already exists`)
}

export function definePermission(
  index: EntitlementIndex,
  input: { id: string; name: string; description: string },
): Plan {
  checkId('permission', input.id)
  checkText('name', input.name)
  checkText('description', input.description)
  requireFreeEntitlementId(index, input.id)
  return {
    changes: [{ tbl: 'permissions', op: 'put', row: { ...input, builtin: 0 } }],
    summary: `defined permission ${input.id}`,
  }
}

export function deletePermission(index: EntitlementIndex, id: string): Plan {
  const permission = index.permissions.get(id)
  if (!permission) throw notFound(`permission ${id} does not exist`)
  if (permission.builtin) throw conflict(`permission ${id} is built in and cannot be deleted`)
  const changes: PlannedChange[] = [{ tbl: 'permissions', op: 'delete', row: { id } }]
  for (const [roleId, held] of index.rolePermissions) {
    if (held.has(id)) {
      changes.push({
        tbl: 'role_entitlements',
        op: 'delete',
        row: { role_id: roleId, entitlement_kind: 'permission', entitlement_id: id },
      })
    }
  }
  for (const [userId, held] of index.userPermissions) {
    if (held.has(id)) {
      changes.push({
        tbl: 'user_grants',
        op: 'delete',
        row: { user_id: userId, grant_kind: 'permission', target_id: id },
      })
    }
  }
  return { changes, summary: `deleted permission ${id} (and ${changes.length - 1} grant(s) of it)` }
}

export function defineRole(
  index: EntitlementIndex,
  input: { id: string; name: string; description: string },
): Plan {
  checkId('role', input.id)
  checkText('name', input.name)
  checkText('description', input.description)
  requireFreeEntitlementId(index, input.id)
  return { changes: [{ tbl: 'roles', op: 'put', row: input }], summary: `defined role ${input.id}` }
}

/** The chain of roles from `from` down to `to` through nested roles, if there is one. */
function rolePath(index: EntitlementIndex, from: string, to: string): string[] | undefined {
  const parent = new Map<string, string>()
  const queue = [from]
  const seen = new Set([from])
  while (queue.length > 0) {
    const id = queue.shift() as string
    if (id === to) {
      const path = [id]
      let step = id
      while (parent.has(step)) {
        step = parent.get(step) as string
        path.unshift(step)
      }
      return path
    }
    for (const next of index.roleRoles.get(id) ?? []) {
      if (!seen.has(next)) {
        seen.add(next)
        parent.set(next, id)
        queue.push(next)
      }
    }
  }
  return undefined
}

export function addEntitlementToRole(index: EntitlementIndex, roleId: string, entitlementId: string): Plan {
  requireRole(index, roleId)
  const kind = entitlementKind(index, entitlementId)
  if (kind === 'role') {
    const back = rolePath(index, entitlementId, roleId)
    if (back)
      throw conflict(
        `adding role ${entitlementId} to role ${roleId} would make a cycle: ${[roleId, ...back].join(' -> ')}`,
      )
  }
  const held = (kind === 'role' ? index.roleRoles : index.rolePermissions).get(roleId)
  if (held?.has(entitlementId))
    return { changes: [], summary: `role ${roleId} already holds ${kind} ${entitlementId}` }
  return {
    changes: [
      {
        tbl: 'role_entitlements',
        op: 'put',
        row: { role_id: roleId, entitlement_kind: kind, entitlement_id: entitlementId },
      },
    ],
    summary: `added ${kind} ${entitlementId} to role ${roleId}`,
  }
}

export function removeEntitlementFromRole(
  index: EntitlementIndex,
  roleId: string,
  entitlementId: string,
): Plan {
  requireRole(index, roleId)
  const kind = index.roleRoles.get(roleId)?.has(entitlementId)
    ? 'role'
    : index.rolePermissions.get(roleId)?.has(entitlementId)
      ? 'permission'
      : undefined
  if (!kind) throw notFound(`role ${roleId} does not hold ${entitlementId}`)
  return keepingAnAdministrator(index, {
    changes: [
      {
        tbl: 'role_entitlements',
        op: 'delete',
        row: { role_id: roleId, entitlement_kind: kind, entitlement_id: entitlementId },
      },
    ],
    summary: `removed ${kind} ${entitlementId} from role ${roleId}`,
  })
}

export function deleteRole(index: EntitlementIndex, id: string): Plan {
  requireRole(index, id)
  const boundBy = [...(index.resourceRolesOfRole.get(id) ?? [])]
  if (boundBy.length > 0) {
    throw conflict(`role ${id} is bound by resource role(s) ${boundBy.join(', ')}: delete those first`)
  }
  const changes: PlannedChange[] = [{ tbl: 'roles', op: 'delete', row: { id } }]
  for (const [kind, map] of [
    ['role', index.roleRoles],
    ['permission', index.rolePermissions],
  ] as const) {
    for (const entitlementId of map.get(id) ?? []) {
      changes.push({
        tbl: 'role_entitlements',
        op: 'delete',
        row: { role_id: id, entitlement_kind: kind, entitlement_id: entitlementId },
      })
    }
  }
  for (const roleId of index.roleParents.get(id) ?? []) {
    changes.push({
      tbl: 'role_entitlements',
      op: 'delete',
      row: { role_id: roleId, entitlement_kind: 'role', entitlement_id: id },
    })
  }
  for (const userId of index.roleHolders.get(id) ?? []) {
    changes.push({
      tbl: 'user_grants',
      op: 'delete',
      row: { user_id: userId, grant_kind: 'role', target_id: id },
    })
  }
  return keepingAnAdministrator(index, { changes, summary: `deleted role ${id}` })
}

export function createUser(index: EntitlementIndex, input: { id: string; name: string }): Plan {
  checkId('user', input.id)
  checkText('name', input.name)
  if (index.users.has(input.id)) throw conflict(`user ${input.id} already exists`)
  return { changes: [{ tbl: 'users', op: 'put', row: input }], summary: `created user ${input.id}` }
}

export function deleteUser(index: EntitlementIndex, id: string, now: string): Plan {
  requireUser(index, id)
  const changes: PlannedChange[] = [{ tbl: 'users', op: 'delete', row: { id } }]
  if (index.passwordHashes.has(id))
    changes.push({ tbl: 'credentials', op: 'delete', row: { user_id: id, kind: 'password' } })
  if (index.voicePrintOf.has(id))
    changes.push({ tbl: 'credentials', op: 'delete', row: { user_id: id, kind: 'voice_print' } })
  for (const [kind, map] of [
    ['role', index.userRoles],
    ['permission', index.userPermissions],
    ['resource_role', index.userResourceRoles],
  ] as const) {
    for (const target of map.get(id) ?? []) {
      changes.push({
        tbl: 'user_grants',
        op: 'delete',
        row: { user_id: id, grant_kind: kind, target_id: target },
      })
    }
  }
  changes.push(...endTokensOf(index, id, now))
  return keepingAnAdministrator(index, { changes, summary: `deleted user ${id}` })
}

/** Ends every open session of a user (the console's and the API's "end sessions"): it must log in again. */
export function endSessions(index: EntitlementIndex, id: string, now: string): Plan {
  if (!index.users.has(id)) throw notFound(`user ${id} does not exist`)
  const changes = endTokensOf(index, id, now)
  return { changes, summary: `ended ${changes.length} session(s) of user ${id}` }
}

function endTokensOf(index: EntitlementIndex, userId: string, now: string): PlannedChange[] {
  return [...(index.tokensOfUser.get(userId) ?? [])]
    .map((id) => index.tokens.get(id))
    .filter((t): t is AccessTokenRow => t !== undefined && !t.ended_at)
    .map((t) => ({ tbl: 'access_tokens', op: 'put', row: { ...t, ended_at: now } }) as PlannedChange)
}

/** `secretHash` is the argon2id hash (password) or the digest (voice print), made before the write. */
export function setCredential(
  index: EntitlementIndex,
  userId: string,
  kind: CredentialKind,
  secretHash: string,
): Plan {
  requireUser(index, userId)
  if (kind === 'voice_print') {
    const owner = index.voicePrints.get(secretHash)
    if (owner && owner !== userId)
      throw conflict(`this voice print already identifies user ${owner}; voice prints must be unique`)
  }
  const replaced = kind === 'password' ? index.passwordHashes.has(userId) : index.voicePrintOf.has(userId)
  return {
    changes: [{ tbl: 'credentials', op: 'put', row: { user_id: userId, kind, secret_hash: secretHash } }],
    summary: `${replaced ? 'replaced' : 'added'} ${kind} credential of user ${userId}`,
  }
}

export function removeCredential(index: EntitlementIndex, userId: string, kind: CredentialKind): Plan {
  requireUser(index, userId)
  const has = kind === 'password' ? index.passwordHashes.has(userId) : index.voicePrintOf.has(userId)
  if (!has) throw notFound(`user ${userId} has no ${kind} credential`)
  return keepingAnAdministrator(index, {
    changes: [{ tbl: 'credentials', op: 'delete', row: { user_id: userId, kind } }],
    summary: `removed ${kind} credential of user ${userId}`,
  })
}

function grantMap(index: EntitlementIndex, kind: GrantKind) {
  return kind === 'role'
    ? index.userRoles
    : kind === 'permission'
      ? index.userPermissions
      : index.userResourceRoles
}

/** Grants a role or a permission (whichever `entitlementId` names) to a user. */
export function grantEntitlement(index: EntitlementIndex, userId: string, entitlementId: string): Plan {
  requireUser(index, userId)
  return grant(index, userId, entitlementKind(index, entitlementId), entitlementId)
}

export function grantResourceRole(index: EntitlementIndex, userId: string, resourceRoleId: string): Plan {
  requireUser(index, userId)
  if (!index.resourceRoles.has(resourceRoleId))
    throw notFound(`resource role ${resourceRoleId} does not exist`)
  return grant(index, userId, 'resource_role', resourceRoleId)
}

function grant(index: EntitlementIndex, userId: string, kind: GrantKind, target: string): Plan {
  const label = kind.replace('_', ' ')
  if (grantMap(index, kind).get(userId)?.has(target))
    return { changes: [], summary: `user ${userId} already holds ${label} ${target}` }
  return {
    changes: [
      { tbl: 'user_grants', op: 'put', row: { user_id: userId, grant_kind: kind, target_id: target } },
    ],
    summary: `granted ${label} ${target} to user ${userId}`,
  }
}

export function revokeGrant(index: EntitlementIndex, userId: string, kind: GrantKind, target: string): Plan {
  requireUser(index, userId)
  const label = kind.replace('_', ' ')
  if (!grantMap(index, kind).get(userId)?.has(target))
    throw notFound(`user ${userId} does not hold ${label} ${target}`)
  return keepingAnAdministrator(index, {
    changes: [
      { tbl: 'user_grants', op: 'delete', row: { user_id: userId, grant_kind: kind, target_id: target } },
    ],
    summary: `revoked ${label} ${target} from user ${userId}`,
  })
}

export function createResource(
  index: EntitlementIndex,
  input: { id: string; description: string; parentId?: string | null | undefined },
): Plan {
  checkId('resource', input.id)
  checkText('description', input.description)
  if (index.resources.has(input.id)) throw conflict(`resource ${input.id} already exists`)
  const parent = input.parentId || null
  if (parent !== null && !index.resources.has(parent))
    throw notFound(`parent resource ${parent} does not exist`)
  return {
    changes: [
      {
        tbl: 'resources',
        op: 'put',
        row: { id: input.id, description: input.description, parent_id: parent },
      },
    ],
    summary: parent ? `created resource ${input.id} inside ${parent}` : `created resource ${input.id}`,
  }
}

export function deleteResource(index: EntitlementIndex, id: string): Plan {
  if (!index.resources.has(id)) throw notFound(`resource ${id} does not exist`)
  const children = [...index.resources.values()].filter((r) => r.parent_id === id).map((r) => r.id)
  if (children.length > 0)
    throw conflict(`resource ${id} contains ${children.join(', ')}: delete or move those first`)
  const bound = [...index.resourceRoles.values()].filter((rr) => rr.resource_id === id).map((rr) => rr.id)
  if (bound.length > 0)
    throw conflict(`resource ${id} is bound by resource role(s) ${bound.join(', ')}: delete those first`)
  return { changes: [{ tbl: 'resources', op: 'delete', row: { id } }], summary: `deleted resource ${id}` }
}

/** Binds a role to a resource; a resource not registered yet is created (and the summary says so). */
export function createResourceRole(
  index: EntitlementIndex,
  input: { id: string; roleId: string; resourceId: string },
): Plan {
  checkId('resource role', input.id)
  if (index.resourceRoles.has(input.id)) throw conflict(`resource role ${input.id} already exists`)
  requireRole(index, input.roleId)
  const changes: PlannedChange[] = []
  let created = ''
  if (!index.resources.has(input.resourceId)) {
    checkId('resource', input.resourceId)
    changes.push({
      tbl: 'resources',
      op: 'put',
      row: { id: input.resourceId, description: input.resourceId, parent_id: null },
    })
    created = ` (resource ${input.resourceId} did not exist and was created)`
  }
  changes.push({
    tbl: 'resource_roles',
    op: 'put',
    row: { id: input.id, role_id: input.roleId, resource_id: input.resourceId },
  })
  return {
    changes,
    summary: `created resource role ${input.id}: role ${input.roleId} on ${input.resourceId}${created}`,
    details: { createdResource: created ? input.resourceId : undefined },
  }
}

export function deleteResourceRole(index: EntitlementIndex, id: string): Plan {
  if (!index.resourceRoles.has(id)) throw notFound(`resource role ${id} does not exist`)
  const changes: PlannedChange[] = [{ tbl: 'resource_roles', op: 'delete', row: { id } }]
  for (const userId of index.resourceRoleHolders.get(id) ?? []) {
    changes.push({
      tbl: 'user_grants',
      op: 'delete',
      row: { user_id: userId, grant_kind: 'resource_role', target_id: id },
    })
  }
  return { changes, summary: `deleted resource role ${id}` }
}

export function startToken(row: AccessTokenRow): Plan {
  return {
    changes: [{ tbl: 'access_tokens', op: 'put', row }],
    summary: `issued token ${row.id} to ${row.user_id}`,
  }
}

export function endToken(index: EntitlementIndex, tokenId: string, now: string): Plan {
  const row = index.tokens.get(tokenId)
  if (!row) throw notFound(`token ${tokenId} is not known`)
  if (row.ended_at)
    return { changes: [], summary: `token ${tokenId} was already logged out at ${row.ended_at}` }
  return {
    changes: [{ tbl: 'access_tokens', op: 'put', row: { ...row, ended_at: now } }],
    summary: `logged out token ${tokenId} of ${row.user_id}`,
  }
}

/** Drops tokens that ended or expired before `cutoff`: they can never be used again. */
export function purgeTokens(index: EntitlementIndex, cutoff: string): Plan {
  const changes: PlannedChange[] = []
  for (const t of index.tokens.values()) {
    if ((t.ended_at !== null && t.ended_at < cutoff) || t.expires_at < cutoff) {
      changes.push({ tbl: 'access_tokens', op: 'delete', row: { id: t.id } })
    }
  }
  return { changes, summary: `purged ${changes.length} token(s) that ended or expired before ${cutoff}` }
}
