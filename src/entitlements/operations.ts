import { Type } from '@sinclair/typebox'
import { listing, type Operation, operation } from '../kernel/operations.js'
import { AnyObject, Changed, Id, Revision, Secret, Text } from '../kernel/schemas.js'
import { sessionOperations } from './session-operations.js'
import { type EntityKind, entityViews, listEntities, openSessions } from './views.js'

/** An administrator's change: the write path checks the admin permission under its lock. */
const change = (tag: string) => ({
  tags: [tag],
  permission: 'admin' as const,
  checkedByService: true as const,
  output: Changed,
})
const ById = Type.Object({ id: Id }, { additionalProperties: false })
const Described = Type.Object({ id: Id, name: Text, description: Text }, { additionalProperties: false })
const Membership = Type.Object({ id: Id, member: Id }, { additionalProperties: false })
const CredentialKind = Type.Union([Type.Literal('password'), Type.Literal('voice_print')])

/** Listing and reading one kind of entity, as administrators see it (entitlements/views.ts). */
const views = (kind: EntityKind, label: string): Operation[] => [
  listing({
    name: `list_${kind.replaceAll('-', '_')}`,
    action: `list ${kind}`,
    summary: `List ${label}s`,
    tags: [kind],
    permission: 'admin',
    path: `/v1/${kind}`,
    items: ({ custodian }) => listEntities(custodian.index, kind),
  }),
  operation({
    name: `read_${label.replaceAll(' ', '_')}`,
    action: `read ${kind}`,
    summary: `Read a ${label}`,
    tags: [kind],
    permission: 'admin',
    input: ById,
    output: AnyObject,
    http: { method: 'GET', path: `/v1/${kind}/:id` },
    run: ({ custodian }, { id }) => entityViews[kind].one(custodian.index, id),
  }),
]

const permissions: Operation[] = [
  ...views('permissions', 'permission'),
  operation({
    ...change('permissions'),
    name: 'define_permission',
    summary: 'Create a permission',
    input: Described,
    http: { method: 'POST', path: '/v1/permissions', status: 201 },
    script: {
      usage: 'define_permission <permission_id>, <name>, <description>',
      help: 'defines a permission',
      args: ['id', 'name', 'description'],
    },
    run: ({ custodian, token }, input) => custodian.definePermission(token, input),
  }),
  operation({
    ...change('permissions'),
    name: 'delete_permission',
    summary: 'Delete a permission',
    input: ById,
    http: { method: 'DELETE', path: '/v1/permissions/:id' },
    script: {
      usage: 'delete_permission <permission_id>',
      help: 'deletes a permission and its grants',
      args: ['id'],
    },
    run: ({ custodian, token }, { id }) => custodian.deletePermission(token, id),
  }),
]

const roles: Operation[] = [
  ...views('roles', 'role'),
  operation({
    ...change('roles'),
    name: 'define_role',
    summary: 'Create a role',
    input: Described,
    http: { method: 'POST', path: '/v1/roles', status: 201 },
    script: {
      usage: 'define_role <role_id>, <name>, <description>',
      help: 'defines a role',
      args: ['id', 'name', 'description'],
    },
    run: ({ custodian, token }, input) => custodian.defineRole(token, input),
  }),
  operation({
    ...change('roles'),
    name: 'delete_role',
    summary: 'Delete a role',
    input: ById,
    http: { method: 'DELETE', path: '/v1/roles/:id' },
    script: {
      usage: 'delete_role <role_id>',
      help: 'deletes a role (not while a resource role binds it)',
      args: ['id'],
    },
    run: ({ custodian, token }, { id }) => custodian.deleteRole(token, id),
  }),
  operation({
    ...change('roles'),
    name: 'add_entitlement_to_role',
    summary: 'Add a permission or nested role to a role',
    input: Membership,
    http: { method: 'PUT', path: '/v1/roles/:id/entitlements/:member' },
    script: {
      usage: 'add_entitlement_to_role <role_id>, <permission_id|role_id>',
      help: 'adds a permission or a nested role to a role',
      args: ['id', 'member'],
    },
    run: ({ custodian, token }, { id, member }) => custodian.addEntitlementToRole(token, id, member),
  }),
  operation({
    ...change('roles'),
    name: 'remove_entitlement_from_role',
    summary: 'Remove a permission or nested role to a role',
    input: Membership,
    http: { method: 'DELETE', path: '/v1/roles/:id/entitlements/:member' },
    script: {
      usage: 'remove_entitlement_from_role <role_id>, <permission_id|role_id>',
      help: 'removes a permission or nested role from a role',
      args: ['id', 'member'],
    },
    run: ({ custodian, token }, { id, member }) => custodian.removeEntitlementFromRole(token, id, member),
  }),
]

const users: Operation[] = [
  ...views('users', 'user'),
  operation({
    ...change('users'),
    name: 'create_user',
    summary: 'Create a user',
    input: Type.Object({ id: Id, name: Text }, { additionalProperties: false }),
    http: { method: 'POST', path: '/v1/users', status: 201 },
    script: { usage: 'create_user <user_id>, <user_name>', help: 'creates a user', args: ['id', 'name'] },
    run: ({ custodian, token }, input) => custodian.createUser(token, input),
  }),
  operation({
    ...change('users'),
    name: 'delete_user',
    summary: 'Delete a user',
    input: ById,
    http: { method: 'DELETE', path: '/v1/users/:id' },
    script: {
      usage: 'delete_user <user_id>',
      help: 'deletes a user, its credentials and grants, and ends its tokens',
      args: ['id'],
    },
    run: ({ custodian, token }, { id }) => custodian.deleteUser(token, id),
  }),
  operation({
    ...change('users'),
    name: 'add_user_credential',
    summary: 'Set a password (stored as an argon2id hash) or a voice print (stored as a digest)',
    input: Type.Object({ id: Id, kind: CredentialKind, value: Secret }, { additionalProperties: false }),
    http: { method: 'PUT', path: '/v1/users/:id/credentials/:kind' },
    script: {
      usage: 'add_user_credential <user_id>, <voice_print|password>, <value>',
      help: 'sets a password (hashed with argon2id) or a voice print (stored as a digest)',
      args: ['id', 'kind', 'value'],
    },
    run: ({ custodian, token }, { id, kind, value }) => custodian.addUserCredential(token, id, kind, value),
  }),
  operation({
    ...change('users'),
    name: 'remove_user_credential',
    summary: 'Remove a credential',
    input: Type.Object({ id: Id, kind: CredentialKind }, { additionalProperties: false }),
    http: { method: 'DELETE', path: '/v1/users/:id/credentials/:kind' },
    script: {
      usage: 'remove_user_credential <user_id>, <voice_print|password>',
      help: 'removes a credential',
      args: ['id', 'kind'],
    },
    run: ({ custodian, token }, { id, kind }) => custodian.removeUserCredential(token, id, kind),
  }),
  operation({
    ...change('users'),
    name: 'add_role_to_user',
    summary: 'Add a role (or a permission) to a user, on every resource',
    input: Membership,
    http: { method: 'PUT', path: '/v1/users/:id/roles/:member' },
    script: {
      usage: 'add_role_to_user <user_id>, <role_id|permission_id>',
      help: 'grants a role (or a permission) to a user on every resource',
      args: ['id', 'member'],
    },
    run: ({ custodian, token }, { id, member }) => custodian.grantToUser(token, id, member),
  }),
  operation({
    ...change('users'),
    name: 'remove_role_from_user',
    summary: 'Remove a role (or a permission) to a user, on every resource',
    input: Membership,
    http: { method: 'DELETE', path: '/v1/users/:id/roles/:member' },
    script: {
      usage: 'remove_role_from_user <user_id>, <role_id|permission_id>',
      help: 'revokes a role (or a permission) from a user',
      args: ['id', 'member'],
    },
    run: ({ custodian, token }, { id, member }) =>
      custodian.revokeFromUser(token, id, custodian.index.roles.has(member) ? 'role' : 'permission', member),
  }),
  operation({
    ...change('users'),
    name: 'add_resource_role_to_user',
    summary: 'Add a resource role to a user',
    input: Membership,
    http: { method: 'PUT', path: '/v1/users/:id/resource-roles/:member' },
    script: {
      usage: 'add_resource_role_to_user <user_id>, <resource_role_id>',
      help: 'grants a resource role to a user',
      args: ['id', 'member'],
    },
    run: ({ custodian, token }, { id, member }) => custodian.grantResourceRoleToUser(token, id, member),
  }),
  operation({
    ...change('users'),
    name: 'remove_resource_role_from_user',
    summary: 'Remove a resource role to a user',
    input: Membership,
    http: { method: 'DELETE', path: '/v1/users/:id/resource-roles/:member' },
    script: {
      usage: 'remove_resource_role_from_user <user_id>, <resource_role_id>',
      help: 'revokes a resource role from a user',
      args: ['id', 'member'],
    },
    run: ({ custodian, token }, { id, member }) =>
      custodian.revokeFromUser(token, id, 'resource_role', member),
  }),
  // unlockUser checks the admin permission itself, naming the user in the refusal. Its answer counts the
  // locks lifted, beside the revision and summary of any change.
  operation({
    ...change('users'),
    name: 'unlock',
    summary: "Clear a user's login locks and failure counts, at every address",
    input: ById,
    output: Type.Object({ revision: Revision, summary: Type.String(), locks: Type.Integer() }),
    http: { method: 'DELETE', path: '/v1/users/:id/lock' },
    script: {
      usage: 'unlock <user_id>',
      help: 'clears the login locks and failure counts of a user, at every address (administrators)',
      args: ['id'],
      present: ({ revision, summary, locks }) => ({ message: summary, result: { revision, summary, locks } }),
    },
    async run({ custodian, token }, { id }) {
      const result = await custodian.unlockUser(token, id)
      return { revision: result.revision, summary: result.summary, locks: Number(result.details?.locks ?? 0) }
    },
  }),
  operation({
    name: 'list_sessions',
    summary:
      "A user's open sessions: token id, how it logged in, when it was made, expires and was last used",
    tags: ['users'],
    permission: 'admin',
    input: ById,
    output: Type.Object({
      items: Type.Array(
        Type.Object({
          token_id: Type.String(),
          method: Type.String(),
          created_at: Type.String(),
          expires_at: Type.String(),
          last_used_at: Type.String(),
        }),
      ),
    }),
    http: { method: 'GET', path: '/v1/users/:id/sessions' },
    script: {
      usage: 'list_sessions <user_id>',
      help: "lists a user's open sessions (administrators)",
      args: ['id'],
      present: ({ items }) => ({
        message: `${items.length} open session(s)${items.map((s) => `, ${s.token_id} (${s.method}, last used ${s.last_used_at})`).join('')}`,
        result: { items },
      }),
    },
    run: ({ custodian }, { id }) => ({ items: openSessions(custodian.index, id, custodian.now()) }),
  }),
  operation({
    ...change('users'),
    name: 'end_sessions',
    summary: 'End every open session of a user: its tokens are refused from now on',
    input: ById,
    http: { method: 'DELETE', path: '/v1/users/:id/sessions' },
    script: { usage: 'end_sessions <user_id>', help: 'ends every open session of a user', args: ['id'] },
    run: ({ custodian, token }, { id }) => custodian.endSessions(token, id),
  }),
]

const resources: Operation[] = [
  ...views('resources', 'resource'),
  operation({
    ...change('resources'),
    name: 'create_resource',
    summary: 'Create a resource',
    input: Type.Object(
      { id: Id, description: Text, parent: Type.Optional(Id) },
      { additionalProperties: false },
    ),
    http: { method: 'POST', path: '/v1/resources', status: 201 },
    script: {
      usage: 'create_resource <resource_id>, <description>[, <parent_id>]',
      help: 'registers a resource, optionally inside a parent (a room in a house)',
      args: ['id', 'description', 'parent'],
      optional: 1,
    },
    run: ({ custodian, token }, { id, description, parent }) =>
      custodian.createResource(token, { id, description, parentId: parent ?? null }),
  }),
  operation({
    ...change('resources'),
    name: 'delete_resource',
    summary: 'Delete a resource',
    input: ById,
    http: { method: 'DELETE', path: '/v1/resources/:id' },
    script: {
      usage: 'delete_resource <resource_id>',
      help: 'deletes a resource with no children and no resource roles',
      args: ['id'],
    },
    run: ({ custodian, token }, { id }) => custodian.deleteResource(token, id),
  }),
  ...views('resource-roles', 'resource role'),
  operation({
    ...change('resource-roles'),
    name: 'create_resource_role',
    summary: 'Create a resource role',
    input: Type.Object({ id: Id, role: Id, resource: Id }, { additionalProperties: false }),
    http: { method: 'POST', path: '/v1/resource-roles', status: 201 },
    script: {
      usage: 'create_resource_role <resource_role_id>, <role_id>, <resource_id>',
      help: 'binds a role to a resource (creating the resource if it is not registered)',
      args: ['id', 'role', 'resource'],
    },
    run: ({ custodian, token }, { id, role, resource }) =>
      custodian.createResourceRole(token, { id, roleId: role, resourceId: resource }),
  }),
  operation({
    ...change('resource-roles'),
    name: 'delete_resource_role',
    summary: 'Delete a resource role',
    input: ById,
    http: { method: 'DELETE', path: '/v1/resource-roles/:id' },
    script: {
      usage: 'delete_resource_role <resource_role_id>',
      help: 'deletes a resource role and its grants',
      args: ['id'],
    },
    run: ({ custodian, token }, { id }) => custodian.deleteResourceRole(token, id),
  }),
]

/** The entitlements operations, in the order the CLI help lists their script commands. */
export const entitlementOperations: Operation[] = [
  ...permissions,
  ...roles,
  ...users,
  ...resources,
  ...sessionOperations,
]
