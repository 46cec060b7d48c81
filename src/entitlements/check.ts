import { allow, type Decision, deny } from '../decision/decision.js'
import { ADMIN_PERMISSION } from '../store/migrations.js'
import type { EntitlementIndex } from './entitlement-index.js'

/**
 * May `userId` use `permission` on `resourceId`? Yes when the user holds the permission through a plain role
 * or permission (on any resource), holds `admin`, or holds it through a resource role bound to the resource
 * or to one that contains it. Pure: reads only the Index.
 */
export function decideAccess(
  index: EntitlementIndex,
  userId: string,
  permission: string,
  resourceId: string,
): Decision {
  const revision = index.revision
  if (!index.users.has(userId)) return deny(`user ${userId} does not exist`, revision)
  const held = index.effective(userId)
  if (held.global.has(permission)) return allow(`${userId} holds ${permission}`, revision)
  if (held.global.has(ADMIN_PERMISSION)) {
    return allow(`${userId} holds ${ADMIN_PERMISSION}, which allows every permission`, revision)
  }
  if (held.byResource.size > 0) {
    let id: string | null | undefined = resourceId
    for (let depth = 0; id != null && depth < 1_000; depth++) {
      if (held.byResource.get(id)?.has(permission)) {
        return allow(
          id === resourceId
            ? `${userId} holds ${permission} on ${id}`
            : `${userId} holds ${permission} on ${id}, which contains ${resourceId}`,
          revision,
        )
      }
      id = index.resources.get(id)?.parent_id
    }
  }
  return deny(explainDenial(index, userId, permission, resourceId), revision)
}

/** "jimmy holds control_door, control_window on house1; control_oven is not among them", and the like. */
export function explainDenial(
  index: EntitlementIndex,
  userId: string,
  permission: string,
  resourceId: string,
): string {
  const held = index.effective(userId)
  const parts: string[] = []
  if (held.global.size > 0) parts.push(`${[...held.global].sort().join(', ')} on every resource`)
  for (const id of index.lineage(resourceId)) {
    const here = held.byResource.get(id)
    if (!here || here.size === 0) continue
    const where = id === resourceId ? id : `${id} (which contains ${resourceId})`
    parts.push(`${[...here].sort().join(', ')} on ${where}`)
  }
  const notes: string[] = []
  if (!index.permissions.has(permission)) notes.push(`${permission} is not a defined permission`)
  if (!index.resources.has(resourceId)) notes.push(`${resourceId} is not a registered resource`)
  const suffix = notes.length > 0 ? ` (${notes.join('; ')})` : ''
  if (parts.length === 0)
    return `${userId} holds no permission that applies to ${resourceId}, so not ${permission}${suffix}`
  return `${userId} holds ${parts.join(' and ')}; ${permission} is not among them${suffix}`
}
