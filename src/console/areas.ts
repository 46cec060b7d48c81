import { decideAdministration } from '../entitlements/administrative-scope.js'
import type { EntitlementIndex } from '../entitlements/entitlement-index.js'
import { type AdministrativePermission, permissionFor } from '../entitlements/permissions.js'

/**
 * The console's areas, each needing what the operation it is built on needs by the administration table
 * (permissions.ts), so the navigation shows what the operations would allow and nothing more. The
 * operations check again when they run: hiding a link is a courtesy, not the rule.
 */
export interface Area {
  path: string
  label: string
  need: AdministrativePermission
}

export const AREAS = {
  users: { path: '/console/users', label: 'Users', need: permissionFor('list_users') },
  // check_access_batch asks about another user only for a holder of admin (entitlements/access.ts).
  explain: { path: '/console/explain', label: 'Explain a decision', need: 'admin' },
  thirdParties: {
    path: '/console/third-parties',
    label: 'Third parties',
    need: permissionFor('register_third_party'),
  },
  authorizations: {
    path: '/console/authorizations',
    label: 'Authorizations',
    need: permissionFor('list_authorizations'),
  },
  audit: { path: '/console/audit', label: 'Audit log', need: permissionFor('read_audit') },
  catalog: { path: '/console/catalog', label: 'Catalog', need: permissionFor('fetch_catalog') },
  participants: {
    path: '/console/participants',
    label: 'Participants and access',
    need: permissionFor('put_participant'),
  },
  delegation: {
    path: '/console/delegation-policies',
    label: 'Delegation policies',
    need: permissionFor('list_delegation_issuers'),
  },
  trust: { path: '/console/trust', label: 'Trust network', need: permissionFor('add_association') },
} as const satisfies Record<string, Area>

export type AreaKey = keyof typeof AREAS

/** The areas `userId` may use, in navigation order: empty for a user who administers nothing. */
export const areasOf = (index: EntitlementIndex, userId: string): Area[] =>
  Object.values(AREAS).filter((area) => decideAdministration(index, userId, area.need).allowed)
