import { randomBytes } from 'node:crypto'
import { invalid } from '../errors.js'
import type { Kernel } from '../kernel/kernel.js'
import type { ChangeResult } from '../kernel/write-plan.js'
import type { CredentialKind, GrantKind } from '../store/schema.js'
import type { Access } from './access.js'
import * as plans from './changes.js'
import { digestVoicePrint, hashPassword } from './credentials.js'
import type { LoginThrottle } from './login-throttle.js'
import { ADMIN_PERMISSION } from './permissions.js'
import { MAX_SECRET_LENGTH } from './sessions.js'

/**
 * Entitlement administration: permissions, roles, users and their credentials and grants, resources and
 * resource roles. Each method authorizes an administrator and commits one planned change (see plans.ts).
 */
export class Administration {
  readonly #kernel: Kernel
  readonly #access: Access
  readonly #throttle: LoginThrottle

  constructor(kernel: Kernel, access: Access, throttle: LoginThrottle) {
    this.#kernel = kernel
    this.#access = access
    this.#throttle = throttle
  }

  definePermission(token: string | undefined, input: { id: string; name: string; description: string }) {
    return this.#access.change(token, 'permission.define', input.id, ({ index }) =>
      plans.definePermission(index, input),
    )
  }
  deletePermission(token: string | undefined, id: string) {
    return this.#access.change(
      token,
      'permission.delete',
      id,
      ({ index }) => plans.deletePermission(index, id),
      { entitlements: [id] },
    )
  }
  defineRole(token: string | undefined, input: { id: string; name: string; description: string }) {
    return this.#access.change(token, 'role.define', input.id, ({ index }) => plans.defineRole(index, input))
  }
  deleteRole(token: string | undefined, id: string) {
    return this.#access.change(token, 'role.delete', id, ({ index }) => plans.deleteRole(index, id), {
      entitlements: [id],
    })
  }
  addEntitlementToRole(token: string | undefined, roleId: string, entitlementId: string) {
    return this.#access.change(
      token,
      'role.add_entitlement',
      roleId,
      ({ index }) => plans.addEntitlementToRole(index, roleId, entitlementId),
      { entitlements: [roleId, entitlementId] },
    )
  }
  removeEntitlementFromRole(token: string | undefined, roleId: string, entitlementId: string) {
    return this.#access.change(
      token,
      'role.remove_entitlement',
      roleId,
      ({ index }) => plans.removeEntitlementFromRole(index, roleId, entitlementId),
      { entitlements: [roleId, entitlementId] },
    )
  }
  createUser(token: string | undefined, input: { id: string; name: string }) {
    return this.#access.change(token, 'user.create', input.id, ({ index }) => plans.createUser(index, input))
  }
  deleteUser(token: string | undefined, id: string) {
    return this.#access.change(
      token,
      'user.delete',
      id,
      ({ index }, now) => plans.deleteUser(index, id, now),
      {
        users: [id],
      },
    )
  }
  endSessions(token: string | undefined, id: string) {
    return this.#access.change(
      token,
      'user.end_sessions',
      id,
      ({ index }, now) => plans.endSessions(index, id, now),
      { users: [id] },
    )
  }
  async addUserCredential(token: string | undefined, userId: string, kind: CredentialKind, value: string) {
    if (kind !== 'password' && kind !== 'voice_print')
      throw invalid(`credential kind must be password or voice_print, not "${kind}"`)
    if (value === '' || value.length > MAX_SECRET_LENGTH)
      throw invalid(`the ${kind} must be 1 to ${MAX_SECRET_LENGTH} characters`)
    const secret = kind === 'password' ? await hashPassword(value) : digestVoicePrint(value)
    return this.#access.change(
      token,
      'user.set_credential',
      `${userId}/${kind}`,
      ({ index }) => plans.setCredential(index, userId, kind, secret),
      { users: [userId] },
    )
  }
  removeUserCredential(token: string | undefined, userId: string, kind: CredentialKind) {
    return this.#access.change(
      token,
      'user.remove_credential',
      `${userId}/${kind}`,
      ({ index }) => plans.removeCredential(index, userId, kind),
      { users: [userId] },
    )
  }
  /** Grants a role or a permission, whichever the id names. */
  grantToUser(token: string | undefined, userId: string, entitlementId: string) {
    return this.#access.change(
      token,
      'user.grant',
      `${userId}/${entitlementId}`,
      ({ index }) => plans.grantEntitlement(index, userId, entitlementId),
      { users: [userId], entitlements: [entitlementId] },
    )
  }
  grantResourceRoleToUser(token: string | undefined, userId: string, resourceRoleId: string) {
    return this.#access.change(
      token,
      'user.grant',
      `${userId}/${resourceRoleId}`,
      ({ index }) => plans.grantResourceRole(index, userId, resourceRoleId),
      { users: [userId], entitlements: [resourceRoleId] },
    )
  }
  revokeFromUser(token: string | undefined, userId: string, kind: GrantKind, targetId: string) {
    return this.#access.change(
      token,
      'user.revoke',
      `${userId}/${targetId}`,
      ({ index }) => plans.revokeGrant(index, userId, kind, targetId),
      { users: [userId], entitlements: [targetId] },
    )
  }
  createResource(
    token: string | undefined,
    input: { id: string; description: string; parentId?: string | null },
  ) {
    return this.#access.change(token, 'resource.create', input.id, ({ index }) =>
      plans.createResource(index, input),
    )
  }
  deleteResource(token: string | undefined, id: string) {
    return this.#access.change(token, 'resource.delete', id, ({ index }) => plans.deleteResource(index, id))
  }
  createResourceRole(token: string | undefined, input: { id: string; roleId: string; resourceId: string }) {
    return this.#access.change(token, 'resource_role.create', input.id, ({ index }) =>
      plans.createResourceRole(index, input),
    )
  }
  deleteResourceRole(token: string | undefined, id: string) {
    return this.#access.change(
      token,
      'resource_role.delete',
      id,
      ({ index }) => plans.deleteResourceRole(index, id),
      { entitlements: [id] },
    )
  }

  /** An administrator clears every login lock and failure count of a user (at every address); audited. */
  async unlockUser(token: string | undefined, userId: string): Promise<ChangeResult> {
    const actor = this.#access.authorizeAdminAction(token, 'user.unlock', { users: [userId] })
    const locked = await this.#throttle.unlockUser(userId)
    const summary = `cleared the login failures of user ${userId} (${locked} lock${locked === 1 ? '' : 's'} lifted)`
    this.#kernel.audit({ actor, action: 'user.unlock', resource: userId, outcome: 'ok', reason: summary })
    return { revision: this.#kernel.revision, summary, details: { locks: locked } }
  }

  /**
   * For `serve` on a store with no administrator: creates one with a random password, returned once so
   * it can be printed. Decided under the write lock, so two nodes starting together make only one.
   */
  async ensureAdmin(): Promise<{ userId: string; password: string } | undefined> {
    const index = () => this.#kernel.projections.index
    if (!index().isBootstrap()) await this.#kernel.catchUp()
    if (!index().isBootstrap()) return undefined
    const password = randomBytes(18).toString('base64url')
    const secret = await hashPassword(password)
    const outcome = await this.#kernel.write(() => {
      if (!index().isBootstrap()) return { changes: [], audit: [], result: undefined }
      let userId = 'admin'
      while (index().users.has(userId)) userId = `admin-${randomBytes(3).toString('hex')}`
      const at = new Date(this.#kernel.now()).toISOString()
      return {
        changes: [
          { tbl: 'users', op: 'put', row: { id: userId, name: 'Administrator' } },
          { tbl: 'credentials', op: 'put', row: { user_id: userId, kind: 'password', secret_hash: secret } },
          {
            tbl: 'user_grants',
            op: 'put',
            row: { user_id: userId, grant_kind: 'permission', target_id: ADMIN_PERMISSION },
          },
        ],
        audit: [
          {
            at,
            actor: 'system',
            action: 'user.create',
            resource: userId,
            outcome: 'ok',
            reason: `created first administrator ${userId}`,
          },
        ],
        result: userId,
      }
    })
    return outcome.result ? { userId: outcome.result, password } : undefined
  }
}
