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
  permissions: {
    path: '/console/permissions',
    label: 'Permissions',
    need: permissionFor('define_permission'),
  },
  roles: { path: '/console/roles', label: 'Roles', need: permissionFor('define_role') },
  resources: { path: '/console/resources', label: 'Resources', need: permissionFor('create_resource') },
  resourceRoles: {
    path: '/console/resource-roles',
    label: 'Resource roles',
    need: permissionFor('create_resource_role'),
  },
  home: { path: '/console/home', label: 'Home model', need: permissionFor('define_house') },
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
  customers: { path: '/console/customers', label: 'Customers', need: permissionFor('list_customers') },
  outbox: { path: '/console/outbox', label: 'Outbox', need: permissionFor('list_outbox') },
  publication: {
    path: '/console/publication',
    label: 'Publication',
    need: permissionFor('import greenbutton'),
  },
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
  audit: { path: '/console/audit', label: 'Audit log', need: permissionFor('read_audit') },
} as const satisfies Record<string, Area>

export type AreaKey = keyof typeof AREAS

/** The areas `userId` may use, in navigation order: empty for a user who administers nothing. */
export const areasOf = (index: EntitlementIndex, userId: string): Area[] =>
  Object.values(AREAS).filter((area) => decideAdministration(index, userId, area.need).allowed)
