/**
 * Row shapes of every table, as Kysely sees them. Times are ISO-8601 UTC strings in both databases so that
 * rows compare and serialise the same way on SQLite and PostgreSQL.
 */
export interface PermissionRow {
  id: string
  name: string
  description: string
  builtin: number
}

export interface RoleRow {
  id: string
  name: string
  description: string
}

export type EntitlementKind = 'role' | 'permission'

export interface RoleEntitlementRow {
  role_id: string
  entitlement_kind: EntitlementKind
  entitlement_id: string
}

export interface UserRow {
  id: string
  name: string
}

export type CredentialKind = 'password' | 'voice_print'

export interface CredentialRow {
  user_id: string
  kind: CredentialKind
  /** argon2id PHC string for a password; a SHA-256 digest for a voice print (which is also its lookup key). */
  secret_hash: string
}

export type GrantKind = 'role' | 'permission' | 'resource_role'

export interface UserGrantRow {
  user_id: string
  grant_kind: GrantKind
  target_id: string
}

export interface ResourceRow {
  id: string
  description: string
  parent_id: string | null
}

export interface ResourceRoleRow {
  id: string
  role_id: string
  resource_id: string
}

export interface AccessTokenRow {
  id: string
  user_id: string
  /** SHA-256 of the token's secret part, hex. The token itself is never stored. */
  secret_hash: string
  method: 'password' | 'voice_print' | 'system'
  created_at: string
  expires_at: string
  idle_timeout_seconds: number
  last_used_at: string
  ended_at: string | null
}

export interface ChangeRow {
  revision: number
  at: string
  tbl: string
  op: 'put' | 'delete'
  /** JSON of the row (put) or of its key columns (delete). */
  row: string
}

export interface AuditRow {
  seq: number
  at: string
  /** The user id acting, or `bootstrap`, `system`, `anonymous`. */
  actor: string
  /** Dotted verb, for example `permission.define`, `login.password`, or `check:<permission>`. */
  action: string
  /** What was acted on, as the command named it. */
  resource: string
  /** `ok`, `allowed`, `denied` or an error code. */
  outcome: string
  reason: string
  prev_hash: string
  hash: string
}

export interface MetaRow {
  key: string
  value: string
}

/** The tables that hold entitlement state and travel through the change log, with their key columns. */
export const replicatedTables = {
  permissions: ['id'],
  roles: ['id'],
  role_entitlements: ['role_id', 'entitlement_kind', 'entitlement_id'],
  users: ['id'],
  credentials: ['user_id', 'kind'],
  user_grants: ['user_id', 'grant_kind', 'target_id'],
  resources: ['id'],
  resource_roles: ['id'],
  access_tokens: ['id'],
} as const

export type ReplicatedTable = keyof typeof replicatedTables

export interface ReplicatedRows {
  permissions: PermissionRow
  roles: RoleRow
  role_entitlements: RoleEntitlementRow
  users: UserRow
  credentials: CredentialRow
  user_grants: UserGrantRow
  resources: ResourceRow
  resource_roles: ResourceRoleRow
  access_tokens: AccessTokenRow
}

export interface Database extends ReplicatedRows {
  changes: ChangeRow
  audit_log: AuditRow
  meta: MetaRow
}
