import { allow, type Decision, deny } from '../decision/decision.js'
import { holdsAdmin } from './administrator.js'
import type { EntitlementIndex } from './entitlement-index.js'
import type { EffectiveEntitlements } from './grant-sets.js'
import { ADMIN_PERMISSION } from './permissions.js'

/** Parent chains longer than this are treated as broken data (a loop), so a check always ends. */
const MAX_DEPTH = 1_000

/** Is `userId` an administrator? As a Decision, whose refusal says what is missing. */
export function decideAdministrator(index: EntitlementIndex, userId: string): Decision {
  const held = index.held(userId)
  if (!held) return deny(`user ${userId} does not exist`, index.revision)
  return holdsAdmin(held)
    ? allow(`${userId} holds ${ADMIN_PERMISSION}, which allows every permission`, index.revision)
    : deny(`it needs the ${ADMIN_PERMISSION} permission, which ${userId} does not hold`, index.revision)
}

/** `decideAdministrator` as a yes or no. */
export const isAdministrator = (index: EntitlementIndex, userId: string): boolean =>
  decideAdministrator(index, userId).allowed

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
  const held = index.held(userId)
  if (!held) return deny(`user ${userId} does not exist`, revision)
  if (held.global.has(permission)) return allow(`${userId} holds ${permission}`, revision)
  if (holdsAdmin(held)) {
    return allow(`${userId} holds ${ADMIN_PERMISSION}, which allows every permission`, revision)
  }
  if (held.byResource.size === 0) return deny(explain(index, held, userId, permission, resourceId), revision)
  // The ids walked are kept for the explanation, so that a refusal looks each resource up once.
  const walked: string[] = []
  let registered = false
  let id: string | null | undefined = resourceId
  for (let depth = 0; id != null && depth < MAX_DEPTH; depth++) {
    if (held.byResource.get(id)?.has(permission)) {
      return allow(
        id === resourceId
          ? `${userId} holds ${permission} on ${id}`
          : `${userId} holds ${permission} on ${id}, which contains ${resourceId}`,
        revision,
      )
    }
    walked.push(id)
    const row = index.resources.get(id)
    if (depth === 0) registered = row !== undefined
    id = row?.parent_id
  }
  return deny(explain(index, held, userId, permission, resourceId, { walked, registered }), revision)
}

/** Allowed when any one of `permissions` is; a refusal explains them all at once. */
export function decideAccessAny(
  index: EntitlementIndex,
  userId: string,
  permissions: readonly string[],
  resourceId: string,
): Decision {
  if (permissions.length === 1) return decideAccess(index, userId, permissions[0] as string, resourceId)
  let last: Decision | undefined
  for (const permission of permissions) {
    last = decideAccess(index, userId, permission, resourceId)
    if (last.allowed) return last
  }
  const held = index.held(userId)
  if (!held || !last) return last ?? deny('no permission was asked for', index.revision)
  return deny(explain(index, held, userId, permissions, resourceId), index.revision)
}

/** "jimmy holds control_door, control_window on house1; control_oven is not among them", and the like. */
export function explainDenial(
  index: EntitlementIndex,
  userId: string,
  permission: string,
  resourceId: string,
): string {
  return explain(index, index.effective(userId), userId, permission, resourceId)
}

/** A set's sorted text, memoised on the user's entitlements (which are rebuilt on any change). */
function textOf(held: EffectiveEntitlements, key: string, set: ReadonlySet<string>): string {
  held.texts ??= new Map()
  let text = held.texts.get(key)
  if (text === undefined) {
    text = [...set].sort().join(', ')
    held.texts.set(key, text)
  }
  return text
}

/** The resource and its ancestors, nearest first (up to MAX_DEPTH, a loop's ids again), and whether it exists. */
interface Lineage {
  walked: readonly string[]
  registered: boolean
}

function lineageOf(index: EntitlementIndex, resourceId: string): Lineage {
  const walked: string[] = []
  for (let id: string | null | undefined = resourceId; id != null && walked.length < MAX_DEPTH; ) {
    walked.push(id)
    id = index.resources.get(id)?.parent_id
  }
  return { walked, registered: index.resources.has(resourceId) }
}

function explain(
  index: EntitlementIndex,
  held: EffectiveEntitlements,
  userId: string,
  asked: string | readonly string[],
  resourceId: string,
  lineage?: Lineage,
): string {
  const permissions = typeof asked === 'string' ? [asked] : asked
  const permission =
    permissions.length === 1 ? (permissions[0] as string) : `any of ${permissions.join(', ')}`
  let parts = held.global.size > 0 ? `${textOf(held, '', held.global)} on every resource` : ''
  const { walked, registered } =
    lineage ??
    (held.byResource.size > 0
      ? lineageOf(index, resourceId)
      : { walked: [], registered: index.resources.has(resourceId) })
  for (let i = 0; i < walked.length; i++) {
    const id = walked[i] as string
    if (walked.indexOf(id) < i) break // a parent loop: each resource once
    const here = held.byResource.get(id)
    if (here && here.size > 0) {
      const where = id === resourceId ? id : `${id} (which contains ${resourceId})`
      parts += `${parts ? ' and ' : ''}${textOf(held, id, here)} on ${where}`
    }
  }
  let notes = ''
  const undefinedOnes = permissions.filter((p) => !index.permissions.has(p))
  if (undefinedOnes.length > 0) {
    notes = `${undefinedOnes.join(', ')} ${undefinedOnes.length === 1 ? 'is not a defined permission' : 'are not defined permissions'}`
  }
  if (!registered) notes += `${notes ? '; ' : ''}${resourceId} is not a registered resource`
  const suffix = notes ? ` (${notes})` : ''
  if (!parts)
    return `${userId} holds no permission that applies to ${resourceId}, so not ${permission}${suffix}`
  const missing =
    permissions.length === 1
      ? `${permission} is not among them`
      : `none of ${permissions.join(', ')} is among them`
  return `${userId} holds ${parts}; ${missing}${suffix}`
}
