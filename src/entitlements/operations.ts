import { Type } from '@sinclair/typebox'
import { InvalidAccessTokenError } from '../errors.js'
import { listing, type Operation, type OperationContext, operation } from '../kernel/operations.js'
import { AnyObject, Changed, Id, Revision, Text } from '../kernel/schemas.js'
import { type EntityKind, entityViews, listEntities, openSessions } from './views.js'

/** The House Mate controller that sends this call, by its own token; else 401 or 403. */
export function controllerOf({ custodian, token }: OperationContext, action: string): string {
  if (!token)
    throw new InvalidAccessTokenError(
      `${action} needs the access token of a House Mate controller: send Authorization: Bearer <token>`,
    )
  return custodian.authorizeController(token, action)
}

const Secret = Type.String({ minLength: 1, maxLength: 1024 })

/** One question of a batch check; `user` asks about another user than the token's (administrators only). */
const Question = Type.Object(
  { permission: Id, resource: Id, user: Type.Optional(Id) },
  { additionalProperties: false },
)

/**
 * check_access for many questions at once, answered in order with one audit commit (one flush after every
 * decision is recorded). The script form is written in script/commands.ts: a question a field.
 */
export const checkAccessBatch = operation({
  name: 'check_access_batch',
  summary: 'check_access for many questions at once, answered in order',
  description:
    "Each question is answered {allowed, user, reason, revision}, a refusal as allowed: false; all of them are in the audit log before the answer. Without user a question is about the bearer token's user; naming another user needs the admin permission (else 403, nothing decided). An invalid token is 401; more than maxBatchChecks questions is 413. min_revision makes the answers at least as fresh as a write that returned that revision.",
  tags: ['check'],
  permission: 'token',
  input: Type.Object(
    { questions: Type.Array(Question), min_revision: Type.Optional(Revision) },
    { additionalProperties: false },
  ),
  output: Type.Object({
    answers: Type.Array(
      Type.Object({
        allowed: Type.Boolean(),
        user: Type.String(),
        reason: Type.String(),
        revision: Revision,
      }),
    ),
    revision: Revision,
  }),
  http: { method: 'POST', path: '/v1/checks' },
  async run({ custodian, token }, { questions, min_revision }) {
    if (min_revision !== undefined) await custodian.atLeast(min_revision)
    try {
      const answers = custodian.checkAccessBatch(token, questions).map((d) => ({
        allowed: d.allowed,
        user: d.userId as string,
        reason: d.reason,
        revision: d.revision,
      }))
      return { answers, revision: custodian.index.revision }
    } finally {
      await custodian.flush() // every decision is in the audit log before the caller hears any
    }
  },
})

/** Sessions and the access check: where tokens come from, go, and are judged. */
const sessions: Operation[] = [
  // Every attempt is counted in the store before it is checked: per user at an address, per address, and
  // (slowing only) per user. The script's `login` keeps its own grammar (script/commands.ts).
  operation({
    name: 'login',
    summary: 'Log in with a password or a voice print; answers an access token',
    description:
      'A voice print is accepted only with the bearer token of a House Mate controller (a user holding housemate_controller); its token lives minutes.',
    tags: ['sessions'],
    permission: 'public',
    input: Type.Union([
      Type.Object({ user: Id, password: Secret }, { additionalProperties: false }),
      Type.Object({ voice_print: Secret }, { additionalProperties: false }),
    ]),
    output: Type.Object({
      token: Type.String(),
      token_id: Type.String(),
      user: Type.String(),
      expires_at: Type.String(),
      idle_timeout_seconds: Type.Integer(),
    }),
    http: { method: 'POST', path: '/v1/sessions', status: 201, headers: { 'cache-control': 'no-store' } },
    async run(context, input) {
      const { custodian, address } = context
      const login =
        'voice_print' in input
          ? await custodian.loginVoicePrint(input.voice_print, {
              address,
              controller: controllerOf(context, 'log in by voice print'),
            })
          : await custodian.login(input.user, input.password, { address })
      return {
        token: login.token,
        token_id: login.tokenId,
        user: login.userId,
        expires_at: login.expiresAt,
        idle_timeout_seconds: login.idleTimeoutSeconds,
      }
    },
  }),
  operation({
    name: 'logout',
    summary: 'Log out: the bearer token is refused from now on',
    tags: ['sessions'],
    permission: 'token',
    input: Type.Object({}),
    output: Changed,
    http: { method: 'DELETE', path: '/v1/sessions/current' },
    run: ({ custodian, token }) => custodian.logout(token ?? ''),
  }),
  operation({
    name: 'check_access',
    summary: "check_access: may the bearer token's user use this permission on this resource?",
    description:
      'Answers 200 when allowed, 403 AccessDenied or 401 InvalidAccessToken otherwise, always with the reason. ' +
      'min_revision makes the answer at least as fresh as a write that returned that revision.',
    tags: ['check'],
    permission: 'token',
    input: Type.Object(
      { permission: Id, resource: Id, min_revision: Type.Optional(Revision) },
      { additionalProperties: false },
    ),
    output: Type.Object({
      allowed: Type.Literal(true),
      user: Type.String(),
      reason: Type.String(),
      revision: Revision,
    }),
    http: { method: 'POST', path: '/v1/check' },
    script: {
      usage: 'check_access <token_ref>, <permission_id>, <resource_id>',
      help: 'checks that the token holder may use the permission on the resource',
      tokenArg: true,
      args: ['permission', 'resource'],
      present: (answer) => ({ message: `allowed: ${answer.reason}`, result: answer }),
    },
    async run({ custodian, token }, { permission, resource, min_revision }) {
      if (min_revision !== undefined) await custodian.atLeast(min_revision)
      try {
        const decision = custodian.assertAccess(token, permission, resource)
        return {
          allowed: true as const,
          user: decision.userId as string,
          reason: decision.reason,
          revision: decision.revision,
        }
      } finally {
        await custodian.flush() // the decision is in the audit log before the caller hears it
      }
    },
  }),
  checkAccessBatch,
]

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
  ...sessions,
]
