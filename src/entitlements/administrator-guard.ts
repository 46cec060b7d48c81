import { conflict } from '../errors.js'
import type { Plan } from '../kernel/write-plan.js'
import type { PlannedChange } from '../store/store.js'
import type { EntitlementIndex } from './entitlement-index.js'
import { ADMIN_PERMISSION } from './permissions.js'
import { addTo } from './set-maps.js'

/**
 * Refuses a plan after which no user who can log in would hold `admin`: the store would fall back to
 * bootstrap mode, open to anyone with a script. Decided on the administrators and the plan's changes only: an
 * administrator survives the plan unless it deletes them, their last credential, or (re-evaluated with the
 * plan's grant and role changes laid over the Index) every grant that gives them `admin`. Users the plan
 * grants credentials or admin directly are candidates too; a role it changes to hold `admin` is not followed to
 * its holders (no plan checked here adds one), which could only refuse, never wrongly allow.
 */
export function keepingAnAdministrator(index: EntitlementIndex, plan: Plan): Plan {
  const admins = index.administrators()
  if (admins.size === 0) return plan
  const after = new PlanOverlay(index, plan.changes)
  for (const id of admins) if (after.isAdministrator(id)) return plan
  for (const id of after.named) if (after.isAdministrator(id)) return plan
  const names = [...admins].sort()
  throw conflict(
    names.length === 1
      ? `user ${names[0]} is the last administrator; grant ${ADMIN_PERMISSION} to another user first`
      : `this would leave no administrator (${names.join(', ')} would all lose ${ADMIN_PERMISSION}); grant ${ADMIN_PERMISSION} to another user first`,
  )
}

/** The rows that make administrators, as they would be after a plan: the Index with the plan's changes on top. */
class PlanOverlay {
  /** Users a put of the plan names (a user, a credential or a grant): administrators the plan may make. */
  readonly named = new Set<string>()
  readonly #index: EntitlementIndex
  /** key -> true (put) or false (deleted), keys as `tbl|a|b|c`. */
  readonly #rows = new Map<string, boolean>()
  /** Edges the plan adds, so a role's closure after it can follow them. */
  readonly #addedRoleRoles = new Map<string, Set<string>>()
  readonly #addedUserRoles = new Map<string, Set<string>>()
  readonly #touchesRoles: boolean
  readonly #roleAdmin = new Map<string, boolean>()

  constructor(index: EntitlementIndex, changes: readonly PlannedChange[]) {
    this.#index = index
    let touchesRoles = false
    for (const change of changes) {
      const row = change.row as Record<string, string>
      const put = change.op === 'put'
      switch (change.tbl) {
        case 'users':
          this.#rows.set(`u|${row.id}`, put)
          if (put) this.named.add(row.id as string)
          break
        case 'credentials':
          this.#rows.set(`c|${row.user_id}|${row.kind}`, put)
          if (put) this.named.add(row.user_id as string)
          break
        case 'user_grants':
          this.#rows.set(`g|${row.user_id}|${row.grant_kind}|${row.target_id}`, put)
          if (put) this.named.add(row.user_id as string)
          if (put && row.grant_kind === 'role')
            addTo(this.#addedUserRoles, row.user_id as string, row.target_id as string)
          break
        case 'role_entitlements':
          touchesRoles = true
          this.#rows.set(`r|${row.role_id}|${row.entitlement_kind}|${row.entitlement_id}`, put)
          if (put && row.entitlement_kind === 'role')
            addTo(this.#addedRoleRoles, row.role_id as string, row.entitlement_id as string)
          break
      }
    }
    this.#touchesRoles = touchesRoles
  }

  #has(key: string, before: boolean): boolean {
    return this.#rows.get(key) ?? before
  }

  isAdministrator(userId: string): boolean {
    const index = this.#index
    if (!this.#has(`u|${userId}`, index.users.has(userId))) return false
    const canLogIn =
      this.#has(`c|${userId}|password`, index.passwordHashes.has(userId)) ||
      this.#has(`c|${userId}|voice_print`, index.voicePrintOf.has(userId))
    if (!canLogIn) return false
    const direct = `g|${userId}|permission|${ADMIN_PERMISSION}`
    if (this.#has(direct, index.userPermissions.get(userId)?.has(ADMIN_PERMISSION) ?? false)) return true
    for (const roleId of [
      ...(index.userRoles.get(userId) ?? []),
      ...(this.#addedUserRoles.get(userId) ?? []),
    ]) {
      const held = this.#has(`g|${userId}|role|${roleId}`, index.userRoles.get(userId)?.has(roleId) ?? false)
      if (held && this.#roleHoldsAdmin(roleId)) return true
    }
    return false
  }

  /** Whether a role holds `admin` after the plan, through nested roles too (cycles tolerated). */
  #roleHoldsAdmin(roleId: string): boolean {
    if (!this.#touchesRoles) return this.#index.permissionsOfRole(roleId).has(ADMIN_PERMISSION)
    const memo = this.#roleAdmin.get(roleId)
    if (memo !== undefined) return memo
    const index = this.#index
    const seen = new Set<string>()
    const stack = [roleId]
    let found = false
    while (stack.length > 0 && !found) {
      const id = stack.pop() as string
      if (seen.has(id)) continue
      seen.add(id)
      const adminKey = `r|${id}|permission|${ADMIN_PERMISSION}`
      if (this.#has(adminKey, index.rolePermissions.get(id)?.has(ADMIN_PERMISSION) ?? false)) found = true
      for (const child of [...(index.roleRoles.get(id) ?? []), ...(this.#addedRoleRoles.get(id) ?? [])]) {
        if (this.#has(`r|${id}|role|${child}`, index.roleRoles.get(id)?.has(child) ?? false))
          stack.push(child)
      }
    }
    this.#roleAdmin.set(roleId, found)
    return found
  }
}
