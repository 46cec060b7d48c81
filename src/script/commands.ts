import { CustodianError } from '../errors.js'
import type { CredentialKind } from '../store/schema.js'
import { catalogCommands } from './catalog-commands.js'
import {
  admin,
  type CommandOutcome,
  type CommandSpec,
  changed,
  define,
  resolveToken,
  type SessionState,
} from './command-kit.js'
import { consentCommands } from './consent-commands.js'
import { housemateCommands } from './housemate-commands.js'
import type { Field } from './parse-line.js'
import { trustCommands } from './trust-commands.js'

export type { CommandOutcome, CommandSpec, SessionState } from './command-kit.js'

const syntax = (message: string) => new CustodianError('Syntax', message)

/** Every command of the script language. The CLI runs the same table. */
export const commands: Record<string, CommandSpec> = {
  define_permission: define(
    'define_permission <permission_id>, <name>, <description>',
    'defines a permission',
    3,
    3,
    async (s, [id, name, description]) =>
      changed(await s.custodian.definePermission(admin(s), { id: id, name: name, description: description })),
  ),
  delete_permission: define(
    'delete_permission <permission_id>',
    'deletes a permission and its grants',
    1,
    1,
    async (s, [id]) => changed(await s.custodian.deletePermission(admin(s), id)),
  ),
  define_role: define(
    'define_role <role_id>, <name>, <description>',
    'defines a role',
    3,
    3,
    async (s, [id, name, description]) =>
      changed(await s.custodian.defineRole(admin(s), { id: id, name: name, description: description })),
  ),
  delete_role: define(
    'delete_role <role_id>',
    'deletes a role (not while a resource role binds it)',
    1,
    1,
    async (s, [id]) => changed(await s.custodian.deleteRole(admin(s), id)),
  ),
  add_entitlement_to_role: define(
    'add_entitlement_to_role <role_id>, <permission_id|role_id>',
    'adds a permission or a nested role to a role',
    2,
    2,
    async (s, [role, entitlement]) =>
      changed(await s.custodian.addEntitlementToRole(admin(s), role, entitlement)),
  ),
  remove_entitlement_from_role: define(
    'remove_entitlement_from_role <role_id>, <permission_id|role_id>',
    'removes a permission or nested role from a role',
    2,
    2,
    async (s, [role, entitlement]) =>
      changed(await s.custodian.removeEntitlementFromRole(admin(s), role, entitlement)),
  ),
  create_user: define('create_user <user_id>, <user_name>', 'creates a user', 2, 2, async (s, [id, name]) =>
    changed(await s.custodian.createUser(admin(s), { id: id, name: name })),
  ),
  delete_user: define(
    'delete_user <user_id>',
    'deletes a user, its credentials and grants, and ends its tokens',
    1,
    1,
    async (s, [id]) => changed(await s.custodian.deleteUser(admin(s), id)),
  ),
  add_user_credential: define(
    'add_user_credential <user_id>, <voice_print|password>, <value>',
    'sets a password (hashed with argon2id) or a voice print (stored as a digest)',
    3,
    3,
    async (s, [user, kind, value]) =>
      changed(await s.custodian.addUserCredential(admin(s), user, kind as CredentialKind, value)),
  ),
  remove_user_credential: define(
    'remove_user_credential <user_id>, <voice_print|password>',
    'removes a credential',
    2,
    2,
    async (s, [user, kind]) =>
      changed(await s.custodian.removeUserCredential(admin(s), user, kind as CredentialKind)),
  ),
  add_role_to_user: define(
    'add_role_to_user <user_id>, <role_id|permission_id>',
    'grants a role (or a permission) to a user on every resource',
    2,
    2,
    async (s, [user, role]) => changed(await s.custodian.grantToUser(admin(s), user, role)),
  ),
  remove_role_from_user: define(
    'remove_role_from_user <user_id>, <role_id|permission_id>',
    'revokes a role (or a permission) from a user',
    2,
    2,
    async (s, [user, target]) => {
      const kind = s.custodian.index.roles.has(target) ? 'role' : 'permission'
      return changed(await s.custodian.revokeFromUser(admin(s), user, kind, target))
    },
  ),
  create_resource: define(
    'create_resource <resource_id>, <description>[, <parent_id>]',
    'registers a resource, optionally inside a parent (a room in a house)',
    2,
    3,
    async (s, [id, description, parent]) =>
      changed(
        await s.custodian.createResource(admin(s), {
          id: id,
          description: description,
          parentId: parent || null,
        }),
      ),
  ),
  delete_resource: define(
    'delete_resource <resource_id>',
    'deletes a resource with no children and no resource roles',
    1,
    1,
    async (s, [id]) => changed(await s.custodian.deleteResource(admin(s), id)),
  ),
  create_resource_role: define(
    'create_resource_role <resource_role_id>, <role_id>, <resource_id>',
    'binds a role to a resource (creating the resource if it is not registered)',
    3,
    3,
    async (s, [id, role, resource]) =>
      changed(await s.custodian.createResourceRole(admin(s), { id: id, roleId: role, resourceId: resource })),
  ),
  delete_resource_role: define(
    'delete_resource_role <resource_role_id>',
    'deletes a resource role and its grants',
    1,
    1,
    async (s, [id]) => changed(await s.custodian.deleteResourceRole(admin(s), id)),
  ),
  add_resource_role_to_user: define(
    'add_resource_role_to_user <user_id>, <resource_role_id>',
    'grants a resource role to a user',
    2,
    2,
    async (s, [user, rr]) => changed(await s.custodian.grantResourceRoleToUser(admin(s), user, rr)),
  ),
  remove_resource_role_from_user: define(
    'remove_resource_role_from_user <user_id>, <resource_role_id>',
    'revokes a resource role from a user',
    2,
    2,
    async (s, [user, rr]) => changed(await s.custodian.revokeFromUser(admin(s), user, 'resource_role', rr)),
  ),
  login: {
    usage: 'login user <user_id>, password <password>  |  login voiceprint <voice_print>',
    help: 'logs in; later commands name the token @<user_id>, and administrative commands use the latest `login user`',
    async run(s, args) {
      const [first, second] = args
      const usage = commands.login?.usage
      if (first?.words[0] === 'voiceprint' && args.length === 1 && first.words.length >= 2) {
        // Scripts run where the store is, by an operator who holds its credentials: the voice print goes
        // through as the in-process House Mate controller would relay it, counted against that controller,
        // and its token lives minutes. Over HTTP only a controller's own token may present voice prints.
        const login = await s.custodian.loginVoicePrint(first.words.slice(1).join(' '), {
          address: s.address,
        })
        s.logins.set(login.userId, login.token)
        return {
          message: `${login.userId} logged in by voice print: token ${login.tokenId} (@${login.userId}), expires ${login.expiresAt}`,
          result: {
            user: login.userId,
            token_id: login.tokenId,
            token_ref: `@${login.userId}`,
            expires_at: login.expiresAt,
          },
        }
      }
      if (
        first?.words[0] === 'user' &&
        first.words.length === 2 &&
        second?.words[0] === 'password' &&
        second.words.length >= 2 &&
        args.length === 2
      ) {
        const user = first.words[1] as string
        const login = await s.custodian.login(user, second.words.slice(1).join(' '), { address: s.address })
        s.logins.set(login.userId, login.token)
        s.adminToken = login.token
        return {
          message: `${login.userId} logged in: token ${login.tokenId} (@${login.userId}), expires ${login.expiresAt}`,
          result: {
            user: login.userId,
            token_id: login.tokenId,
            token_ref: `@${login.userId}`,
            expires_at: login.expiresAt,
          },
        }
      }
      throw syntax(`login expects: ${usage}`)
    },
  },
  logout: define('logout <token_ref>', 'ends a session (@<user_id> or a token)', 1, 1, async (s, [ref]) => {
    const token = resolveToken(s, ref)
    const result = await s.custodian.logout(token)
    if (s.adminToken === token) s.adminToken = undefined
    return { message: result.summary, result: { revision: result.revision, summary: result.summary } }
  }),
  unlock: define(
    'unlock <user_id>',
    'clears the login locks and failure counts of a user, at every address (administrators)',
    1,
    1,
    async (s, [user]) => changed(await s.custodian.unlockUser(admin(s), user)),
  ),
  check_access: define(
    'check_access <token_ref>, <permission_id>, <resource_id>',
    'checks that the token holder may use the permission on the resource',
    3,
    3,
    async (s, [ref, permission, resource]) => {
      const decision = s.custodian.assertAccess(resolveToken(s, ref), permission, resource)
      return {
        message: `allowed: ${decision.reason}`,
        result: {
          allowed: true,
          user: decision.userId,
          reason: decision.reason,
          revision: decision.revision,
        },
      }
    },
  ),
}

Object.assign(commands, housemateCommands, consentCommands, catalogCommands, trustCommands)

/** Runs one parsed command; an unknown name is a syntax error that lists the known ones. */
export async function runCommand(state: SessionState, name: string, args: Field[]): Promise<CommandOutcome> {
  const spec = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (!spec) throw syntax(`unknown command "${name}"; known commands: ${Object.keys(commands).join(', ')}`)
  return spec.run(state, args)
}
