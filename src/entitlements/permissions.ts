/** The permission that makes a user an administrator of Custodian itself (seeded by store/migrations.ts). */
export const ADMIN_PERMISSION = 'admin'

/** The permission a House Mate controller's own user holds: only it may relay voice prints over HTTP. */
export const HOUSEMATE_CONTROLLER_PERMISSION = 'housemate_controller'

/**
 * Administration by permission, modelled on Keycloak's fine-grained admin roles (manage-users, manage-realm,
 * manage-clients): each administrative operation (script command, CLI verb, operationId), the name its check
 * and audit record go by, and, by table, the one permission that allows it besides `admin`, which allows
 * every one. An operation not listed needs `admin`. These permissions count only when held on every resource
 * (a plain role or permission, as `admin`). The README's "Administration" table is this one, for people.
 */
export const ADMINISTRATION = {
  user_admin: {
    description: 'Create, update and delete users and their credentials; grant and revoke their roles',
    operations: {
      create_user: 'user.create',
      delete_user: 'user.delete',
      add_user_credential: 'user.set_credential',
      remove_user_credential: 'user.remove_credential',
      add_role_to_user: 'user.grant',
      remove_role_from_user: 'user.revoke',
      add_resource_role_to_user: 'user.grant',
      remove_resource_role_from_user: 'user.revoke',
      unlock: 'user.unlock',
      list_users: 'list users',
      read_user: 'read users',
      list_sessions: 'list sessions',
      end_sessions: 'user.end_sessions',
    },
  },
  role_admin: {
    description: 'Define, compose and delete permissions and roles',
    operations: {
      define_permission: 'permission.define',
      delete_permission: 'permission.delete',
      define_role: 'role.define',
      delete_role: 'role.delete',
      add_entitlement_to_role: 'role.add_entitlement',
      remove_entitlement_from_role: 'role.remove_entitlement',
      list_permissions: 'list permissions',
      read_permission: 'read permissions',
      list_roles: 'list roles',
      read_role: 'read roles',
    },
  },
  resource_admin: {
    description: 'Register and delete resources and resource roles',
    operations: {
      create_resource: 'resource.create',
      delete_resource: 'resource.delete',
      create_resource_role: 'resource_role.create',
      delete_resource_role: 'resource_role.delete',
      list_resources: 'list resources',
      read_resource: 'read resources',
      list_resource_roles: 'list resource-roles',
      read_resource_role: 'read resource-roles',
    },
  },
  third_party_admin: {
    description:
      "Register third parties, issue the tokens with which they register themselves, set their standing, rotate their client secrets, list customers' authorizations, and retry the notices the outbox holds for them",
    operations: {
      register_third_party: 'third_party.register',
      issue_registration_token: 'third_party.registration_token',
      set_third_party_standing: 'third_party.standing',
      rotate_client_secret: 'third_party.rotate_secret',
      list_outbox: 'list outbox',
      retry_outbox_message: 'outbox.retry',
      list_authorizations: 'list authorizations',
      show_authorizations: 'list authorizations',
      terminate_authorization_as_administrator: 'authorization.terminate_by_administrator',
    },
  },
  usage_data_admin: {
    description:
      'Create, list and import retail customers and their usage points, and import their usage data',
    operations: {
      create_customer: 'customer.create',
      create_usage_point: 'usage_point.create',
      list_customers: 'list customers',
      'import customers': 'customer.import',
      'import greenbutton': 'greenbutton.import',
    },
  },
} as const satisfies Record<string, { description: string; operations: Record<string, string> }>

/** `admin` or one of the permissions of the administration table. */
export type AdministrativePermission = typeof ADMIN_PERMISSION | keyof typeof ADMINISTRATION

/** Operation names and the names their checks go by, each to the permission the table gives it. */
const needed = new Map<string, AdministrativePermission>(
  Object.entries(ADMINISTRATION).flatMap(([permission, { operations }]) =>
    Object.entries(operations).flatMap((names) => names.map((name) => [name, permission] as const)),
  ) as [string, AdministrativePermission][],
)

/**
 * The permission an administrative operation needs besides `admin`, by its name or the name its check goes
 * by: the table's, else `admin` itself.
 */
export const permissionFor = (operationOrAction: string): AdministrativePermission =>
  needed.get(operationOrAction) ?? ADMIN_PERMISSION

/** The permissions that administer something: a grant that carries one is itself administration. */
export const ADMINISTRATIVE_PERMISSIONS: ReadonlySet<string> = new Set([
  ADMIN_PERMISSION,
  ...Object.keys(ADMINISTRATION),
])
