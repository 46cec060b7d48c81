import { allow, type Decision, deny } from '../decision/decision.js'
import { holdsAdmin } from './administrator.js'
import type { EntitlementIndex } from './entitlement-index.js'
import {
  ADMIN_PERMISSION,
  ADMINISTRATIVE_PERMISSIONS,
  type AdministrativePermission,
  HOUSEMATE_CONTROLLER_PERMISSION,
} from './permissions.js'

// Who may run an administrative action, and on whom: pure decisions over the Index.

/** May `userId` run an action that needs `need` (permissions.ts's table)? `admin` allows every action. */
export function decideAdministration(
  index: EntitlementIndex,
  userId: string,
  need: AdministrativePermission,
): Decision {
  const held = index.held(userId)
  if (!held) return deny(`user ${userId} does not exist`, index.revision)
  if (holdsAdmin(held))
    return allow(`${userId} holds ${ADMIN_PERMISSION}, which allows every permission`, index.revision)
  if (need !== ADMIN_PERMISSION && held.global.has(need))
    return allow(`${userId} holds ${need}`, index.revision)
  return deny(
    need === ADMIN_PERMISSION
      ? `it needs the ${ADMIN_PERMISSION} permission, which ${userId} does not hold`
      : `it needs the ${need} permission (or ${ADMIN_PERMISSION}), which ${userId} does not hold`,
    index.revision,
  )
}

/**
 * The permissions only their holders may hand on: the administrative ones, and housemate_controller, whose
 * holder relays voice prints and so logs users in (granting it is a way into other users' accounts).
 */
const GUARDED = new Set([...ADMINISTRATIVE_PERMISSIONS, HOUSEMATE_CONTROLLER_PERMISSION])

/** The guarded permissions among `permissions`, sorted. */
const administrative = (permissions: Iterable<string>) =>
  [...permissions].filter((p) => GUARDED.has(p)).sort()

/**
 * The administrative permissions an entitlement carries: a permission itself, a role through its closure,
 * a resource role through its role. Unknown ids carry none (the plan refuses them on its own).
 */
function carried(index: EntitlementIndex, id: string): string[] {
  if (index.roles.has(id)) return administrative(index.permissionsOfRole(id))
  const resourceRole = index.resourceRoles.get(id)
  if (resourceRole) return administrative(index.permissionsOfRole(resourceRole.role_id))
  return administrative([id])
}

/** What the administration of a change touches: users it changes, and entitlements it grants or edits. */
export interface Touched {
  users?: readonly string[]
  entitlements?: readonly string[]
}

/**
 * An administrator without `admin` acts only within their own powers, as Keycloak allows a realm manager to
 * map only the admin roles it holds: it may not grant, compose or delete an entitlement that carries an
 * administrative permission it does not hold, nor change a user who holds one (set their password, say, and
 * log in as them). Else one holding user_admin could give itself `admin`.
 */
export function decideScope(index: EntitlementIndex, actor: string, touched: Touched): Decision {
  const held = index.held(actor)
  if (held && holdsAdmin(held)) return allow(`${actor} holds ${ADMIN_PERMISSION}`, index.revision)
  const own = new Set(held?.global ?? [])
  const beyond = (permissions: string[]) => permissions.filter((p) => !own.has(p))
  for (const userId of touched.users ?? []) {
    const missing = beyond(administrative(index.held(userId)?.global ?? []))
    if (missing.length > 0)
      return deny(
        `user ${userId} holds ${missing.join(', ')}, which ${actor} does not: only a holder of ${ADMIN_PERMISSION} or of every administrative permission ${userId} holds may change that user`,
        index.revision,
      )
  }
  for (const id of touched.entitlements ?? []) {
    const missing = beyond(carried(index, id))
    if (missing.length > 0)
      return deny(
        `${id} carries ${missing.join(', ')}, which ${actor} does not hold: only a holder of ${ADMIN_PERMISSION} or of every administrative permission it carries may grant, change or delete it`,
        index.revision,
      )
  }
  return allow(`${actor} acts within its own administrative permissions`, index.revision)
}
