import { oneLine } from '../audit/one-line.js'
import type { Decision } from '../decision/decision.js'
import { enforce } from '../decision/enforce.js'
import { AccessDeniedError, InvalidAccessTokenError, isCustodianError } from '../errors.js'
import type { Kernel, Planner } from '../kernel/kernel.js'
import { started } from '../kernel/metrics.js'
import type { ChangeResult } from '../kernel/write-plan.js'
import { decideAdministration, decideScope, type Touched } from './administrative-scope.js'
import type { EntitlementIndex } from './entitlement-index.js'
import { ADMIN_PERMISSION, HOUSEMATE_CONTROLLER_PERMISSION, permissionFor } from './permissions.js'
import { decideAccess, decideAccessAny, decideAdministrator } from './rules.js'
import type { Sessions } from './sessions.js'

/** The actor of an administrative action taken in bootstrap mode, without a token. */
export const BOOTSTRAP = 'bootstrap'

/** The answer to check_access: a Decision, and on refusal which error the edges should raise. */
export interface AccessCheck extends Decision {
  userId?: string
  error?: 'InvalidAccessToken' | 'AccessDenied'
}

/** The audit action of a batch check: one record for the batch. */
export const BATCH_ACTION = 'check batch'

/** One question of a batch check: may `user` (by default the token's own) use `permission` on `resource`? */
export interface AccessQuestion {
  permission: string
  resource: string
  user?: string | undefined
}

/**
 * A decision about `userId` as check_access answers it. Built field by field: a spread of the decision costs
 * more than the decision on the hot path.
 */
function accessCheck({ allowed, reason, obligations, revision }: Decision, userId: string): AccessCheck {
  return allowed
    ? { allowed, reason, obligations, revision, userId }
    : { allowed, reason, obligations, revision, userId, error: 'AccessDenied' }
}

/** An id as a batch record shows it: as it is when plain, else quoted, so it cannot pass for the text around it. */
const asId = (id: string) => (/^[\w.:@/-]+$/.test(id) ? id : JSON.stringify(id))

/**
 * The one audit record of a batch's decisions: outcome `allowed` when every question was, else `denied`; the
 * reason counts them, then gives each question, numbered in order, with its decision and reason, one line each
 * whatever ids the caller sent.
 */
export function batchRecord(
  actor: string,
  questions: readonly AccessQuestion[],
  checks: readonly AccessCheck[],
): { actor: string; action: string; resource: string; outcome: string; reason: string } {
  let allowed = 0
  let lines = ''
  for (let i = 0; i < checks.length; i++) {
    const q = questions[i] as AccessQuestion
    const c = checks[i] as AccessCheck
    if (c.allowed) allowed += 1
    lines += `\n${i + 1}. ${asId(q.permission)} on ${asId(q.resource)}${c.userId === actor ? '' : ` for ${asId(c.userId as string)}`}: ${c.allowed ? 'allowed' : 'denied'}, ${oneLine(c.reason)}`
  }
  const denied = checks.length - allowed
  return {
    actor,
    action: BATCH_ACTION,
    resource: `${checks.length} question(s)`,
    outcome: denied === 0 ? 'allowed' : 'denied',
    reason: `${allowed} allowed, ${denied} denied:${lines}`,
  }
}

/**
 * Who may do what, at the edges: tokens are checked (and counted as a use), decisions are taken by the pure
 * functions in check.ts over the Index, recorded in the audit log, and turned into errors where asked.
 */
export class Access {
  readonly #kernel: Kernel
  readonly #sessions: Sessions

  constructor(kernel: Kernel, sessions: Sessions) {
    this.#kernel = kernel
    this.#sessions = sessions
  }

  get #index(): EntitlementIndex {
    return this.#kernel.projections.index
  }

  /**
   * check_access(token, permission, resource) as a value: never throws for a refusal. Every decision is
   * recorded in the audit log.
   */
  checkAccess(token: string, permission: string, resourceId: string): AccessCheck {
    return this.checkAccessAny(token, [permission], resourceId)
  }

  /** Allowed when the token's user holds any one of `permissions` (a reader may view or control, say). */
  checkAccessAny(token: string, permissions: readonly string[], resourceId: string): AccessCheck {
    const since = started()
    const check = this.#sessions.useToken(token)
    if (!check.ok) {
      this.#kernel.metrics.decided('entitlement', 'invalid_token', since)
      this.#kernel.audit({
        actor: 'anonymous',
        action: `check:${permissions.join('|')}`,
        resource: resourceId,
        outcome: 'InvalidAccessToken',
        reason: check.reason,
      })
      return {
        allowed: false,
        reason: check.reason,
        obligations: [],
        revision: this.#index.revision,
        error: 'InvalidAccessToken',
      }
    }
    const userId = check.token.user_id
    return this.#decide(userId, permissions, resourceId, since)
  }

  /**
   * Many questions with one token, answered in order: each a decision (a refusal is an answer). The token is
   * checked (and counted) once: an invalid one refuses them all (InvalidAccessTokenError). A question may name
   * another `user`; only an administrator may ask those (else AccessDeniedError, before any is decided). The
   * batch is one audit record, every question and its decision in order in its reason (batchRecord): a
   * record and a hash per decision cost many times the decision, and a batch exists to be cheap.
   */
  checkAccessBatch(token: string | null | undefined, questions: readonly AccessQuestion[]): AccessCheck[] {
    const userId = this.authenticate(token, BATCH_ACTION, '-')
    const others = [...new Set(questions.flatMap((q) => (q.user && q.user !== userId ? [q.user] : [])))]
    if (others.length > 0) {
      const admin = decideAdministrator(this.#index, userId)
      if (!admin.allowed) {
        const reason = `${userId} may not check the access of other users (${others.slice(0, 5).join(', ')}${others.length > 5 ? ', ...' : ''}): ${admin.reason}`
        this.#kernel.audit({
          actor: userId,
          action: BATCH_ACTION,
          resource: '-',
          outcome: 'AccessDenied',
          reason,
        })
        throw new AccessDeniedError(reason, { user: userId })
      }
    }
    if (questions.length === 0) return []
    const since = started()
    const checks = questions.map((q) => {
      const subject = q.user ?? userId
      return accessCheck(decideAccess(this.#index, subject, q.permission, q.resource), subject)
    })
    this.#kernel.audit(batchRecord(userId, questions, checks))
    this.#kernel.metrics.decidedMany('entitlement', checks, since)
    return checks
  }

  /** One decision for `userId` about their own access, and its audit record. */
  #decide(userId: string, permissions: readonly string[], resourceId: string, since: number): AccessCheck {
    const check = accessCheck(decideAccessAny(this.#index, userId, permissions, resourceId), userId)
    const asked = permissions.length === 1 ? (permissions[0] as string) : permissions.join('|')
    this.#kernel.audit({
      actor: userId,
      action: `check:${asked}`,
      resource: resourceId,
      outcome: check.allowed ? 'allowed' : 'denied',
      reason: check.reason,
    })
    this.#kernel.metrics.decided('entitlement', check.allowed ? 'allowed' : 'denied', since)
    return check
  }

  /** check_access as the seed's exceptions: returns the allowing decision or throws. */
  assertAccess(token: string | null | undefined, permission: string, resourceId: string): AccessCheck {
    return this.assertAccessAny(token, [permission], resourceId)
  }

  assertAccessAny(
    token: string | null | undefined,
    permissions: readonly string[],
    resourceId: string,
  ): AccessCheck {
    const result = this.checkAccessAny(token ?? '', permissions, resourceId)
    enforce(result, {
      as: result.error === 'InvalidAccessToken' ? 'token' : 'access',
      refused: `${permissions.join(' or ')} on ${resourceId} refused`,
      details: {
        permission: permissions.join(' '),
        resource: resourceId,
        ...(result.error === 'AccessDenied' ? { user: result.userId } : {}),
      },
    })
    return result
  }

  /**
   * The user a token belongs to, counting this as a use; refuses (audited) a missing, empty, unknown,
   * logged-out, expired or idle token.
   */
  authenticate(token: string | null | undefined, action: string, resource: string): string {
    const check = this.#sessions.useToken(token ?? '')
    if (!check.ok) {
      this.#kernel.audit({
        actor: 'anonymous',
        action,
        resource,
        outcome: 'InvalidAccessToken',
        reason: check.reason,
      })
      throw new InvalidAccessTokenError(`${action} on ${resource} refused: ${check.reason}`, { resource })
    }
    return check.token.user_id
  }

  /**
   * The user of a House Mate controller's token: valid, and holding HOUSEMATE_CONTROLLER_PERMISSION. Only a
   * controller may present voice prints over the network.
   */
  authorizeController(token: string | undefined, action: string): string {
    const userId = this.authenticate(token, action, '-')
    if (!this.#index.effective(userId).global.has(HOUSEMATE_CONTROLLER_PERMISSION)) {
      const reason = `${userId} may not ${action}: only a House Mate controller may, holding the ${HOUSEMATE_CONTROLLER_PERMISSION} permission`
      this.#kernel.audit({ actor: userId, action, resource: '-', outcome: 'AccessDenied', reason })
      throw new AccessDeniedError(reason)
    }
    return userId
  }

  /**
   * Who may run an administrative action: the valid token of a user holding the permission the action needs
   * (permissions.ts's table, or `admin`); in bootstrap mode, before any administrator exists, anyone (without
   * a token, or with any valid one).
   */
  #authorizeAdmin(
    token: string | undefined,
    action: string,
    identified: (userId: string) => void = () => {},
  ): string {
    const need = permissionFor(action)
    // A token that is given is always checked, even in bootstrap mode, so a stale one never passes silently.
    if (token === undefined) {
      if (this.#index.isBootstrap()) return BOOTSTRAP
      throw new AccessDeniedError(
        `${action} needs the access token of a user holding the ${need} permission${need === ADMIN_PERMISSION ? '' : ` (or ${ADMIN_PERMISSION})`}, and none was given: log in as an administrator first`,
      )
    }
    const check = this.#sessions.useToken(token)
    if (!check.ok) throw new InvalidAccessTokenError(check.reason)
    const userId = check.token.user_id
    identified(userId)
    if (this.#index.isBootstrap()) return userId
    enforce(decideAdministration(this.#index, userId, need), { refused: `${userId} may not ${action}` })
    return userId
  }

  /** Authorizes an administrative action outside the change log (lists, the audit log, data imports); returns who asked. */
  authorizeAdminAction(token: string | undefined, action: string, touched: Touched = {}): string {
    let actor = 'anonymous'
    try {
      const userId = this.#authorizeAdmin(token, action, (id) => {
        actor = id
      })
      if (token !== undefined && !this.#index.isBootstrap())
        enforce(decideScope(this.#index, userId, touched), { refused: `${userId} may not ${action}` })
      return userId
    } catch (error) {
      if (isCustodianError(error))
        this.#kernel.audit({ actor, action, resource: '-', outcome: error.code, reason: error.message })
      throw error
    }
  }

  /**
   * Who asks a question any valid token may ask (a catalog, delegation or trust decision): the token's user;
   * without a token, only an administrator's local session (bootstrap, the CLI), else a refusal.
   */
  identify(token: string | undefined, action: string, resource: string): string {
    return token === undefined
      ? this.authorizeAdminAction(token, action)
      : this.authenticate(token, action, resource)
  }

  /**
   * Runs one administrative change: authorizes `token` (or bootstrap mode) and plans the change against the
   * Index caught up under the store's write lock, then commits rows, change records and the audit record.
   * An administrator without `admin` may change only what `touched` names within their own powers
   * (administrative-scope.ts); bootstrap mode has no such limit.
   */
  async change(
    token: string | undefined,
    action: string,
    resource: string,
    plan: Planner,
    touched: Touched = {},
  ): Promise<ChangeResult> {
    let actor = 'anonymous'
    try {
      return await this.#kernel.commit(
        () => {
          actor = this.#authorizeAdmin(token, action, (userId) => {
            actor = userId
          })
          return actor
        },
        action,
        resource,
        (index, now, by) => {
          if (token !== undefined && !index.index.isBootstrap())
            enforce(decideScope(index.index, by, touched), { refused: `${by} may not ${action}` })
          return plan(index, now, by)
        },
      )
    } catch (error) {
      if (isCustodianError(error))
        this.#kernel.audit({ actor, action, resource, outcome: error.code, reason: error.message })
      throw error
    }
  }

  /**
   * A change made by a user rather than an administrator: `token` must be valid (checked under the write
   * lock, like everything the plan reads), and the plan decides whether this user may make it.
   */
  writeAs(
    token: string | null | undefined,
    action: string,
    resource: string,
    plan: Planner,
  ): Promise<ChangeResult> {
    return this.#kernel.commit(() => this.authenticate(token, action, resource), action, resource, plan)
  }

  /** A user's change that needs one of `permissions` on `resource` (a device's status, say). */
  changeAs(
    token: string | null | undefined,
    permissions: readonly string[],
    resource: string,
    action: string,
    plan: Planner,
  ): Promise<ChangeResult> {
    return this.writeAs(token, action, resource, (index, now, userId) => {
      this.assertAccessAny(token, permissions, resource)
      return plan(index, now, userId)
    })
  }
}
