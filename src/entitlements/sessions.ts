import { AuthenticationError, InvalidAccessTokenError } from '../errors.js'
import type { Kernel } from '../kernel/kernel.js'
import type { CallContext, ChangeResult } from '../kernel/write-plan.js'
import type { AccessTokenRow } from '../store/schema.js'
import type { PlannedChange } from '../store/store.js'
import * as plans from './changes.js'
import { decoyPasswordHash, digestVoicePrint, verifyPassword } from './credentials.js'
import type { EntitlementIndex } from './entitlement-index.js'
import type { LoginThrottle } from './login-throttle.js'
import { ADMIN_PERMISSION } from './permissions.js'
import { isAdministrator } from './rules.js'
import { passwordRules, voicePrintRules } from './throttle.js'
import { issueToken, matchToken, type TokenCheck, VerifiedTokens, validateToken } from './tokens.js'

export interface LoginResult {
  token: string
  tokenId: string
  userId: string
  expiresAt: string
  idleTimeoutSeconds: number
  revision: number
}

export interface VoicePrintContext extends CallContext {
  /**
   * The House Mate controller relaying the voice print, as its caller authenticated it (over HTTP: the user of
   * the controller's token, see authorizeController). Default: the in-process controller's service account.
   */
  controller?: string
}

/** Secrets longer than this are cut before hashing: the work per login stays bounded. */
export const MAX_SECRET_LENGTH = 1_024
/**
 * A token's uses are written back to the store at most this often, a tenth of its idle timeout (at most a
 * minute): other nodes may see it idle up to that much early, and in exchange a check costs no write.
 */
const touchSlackMs = (row: AccessTokenRow) => Math.min(60_000, row.idle_timeout_seconds * 100)
/** Ended and expired tokens are kept this long (for the audit trail's sake), then dropped. */
const TOKEN_RETENTION_MS = 86_400_000

/**
 * Sessions: logins (throttled, audited), access tokens and their use. A token's latest use is kept on this
 * node and written back lazily with the audit records, so that a check costs no write.
 */
export class Sessions {
  readonly #kernel: Kernel
  readonly #throttle: LoginThrottle
  /** Token id -> latest use on this node, written back to the store lazily. */
  readonly #activity = new Map<string, number>()
  /** Secrets this node already verified, so that a check need not hash them again (see tokens.ts). */
  readonly #verified = new VerifiedTokens()
  /** No use in #activity is due for writing back before this time: batches need not look until then. */
  #dueFrom = Number.POSITIVE_INFINITY

  constructor(kernel: Kernel, throttle: LoginThrottle) {
    this.#kernel = kernel
    this.#throttle = throttle
    kernel.writeBackWith(() => this.#dueTouches())
  }

  get #index(): EntitlementIndex {
    return this.#kernel.projections.index
  }

  /**
   * Tokens whose last use on this node is far enough past the stored one to be worth writing back (any use
   * at all when closing), so that other nodes see them in use.
   */
  #dueTouches(): PlannedChange[] {
    const closing = this.#kernel.closing
    if (!closing && this.#kernel.now() < this.#dueFrom) return []
    const rows: PlannedChange[] = []
    let dueFrom = Number.POSITIVE_INFINITY
    for (const [id, usedMs] of this.#activity) {
      const row = this.#index.tokens.get(id)
      const storedMs = row ? (this.#verified.lookup(row)?.storedUseMs ?? Date.parse(row.last_used_at)) : 0
      if (!row || row.ended_at || usedMs <= storedMs) {
        this.#activity.delete(id)
        continue
      }
      const slack = touchSlackMs(row)
      dueFrom = Math.min(dueFrom, storedMs + slack)
      if (closing || usedMs - storedMs >= slack)
        rows.push({
          tbl: 'access_tokens',
          op: 'put',
          row: { ...row, last_used_at: new Date(usedMs).toISOString() },
        })
    }
    this.#dueFrom = dueFrom
    return rows
  }

  async login(userId: string, password: string, context: CallContext = {}): Promise<LoginResult> {
    await this.verifyPassword(userId, password, context)
    return this.#startSession(userId, 'password', context)
  }

  /**
   * Checks a user's password (throttled, audited on failure) without starting a session: for logins that
   * keep their own session, such as the OAuth interaction's. The attempt is counted in the store before the
   * password is checked, so parallel attempts on every node together stay within the limits.
   */
  async verifyPassword(userId: string, password: string, context: CallContext = {}): Promise<void> {
    const rules = passwordRules(this.#throttle.limits, userId, context.address)
    const counted = await this.#throttle.admit(rules, userId, 'login.password', userId)
    const stored = this.#index.passwordHashes.get(userId)
    const matches = await verifyPassword(
      stored ?? (await decoyPasswordHash()),
      password.slice(0, MAX_SECRET_LENGTH),
    )
    if (!stored || !matches || !this.#index.users.has(userId)) {
      const why = !this.#index.users.has(userId)
        ? 'unknown user'
        : !stored
          ? 'user has no password credential'
          : 'wrong password'
      this.#kernel.audit({
        actor: userId,
        action: 'login.password',
        resource: userId,
        outcome: 'Authentication',
        reason: why,
      })
      this.#kernel.metrics.loggedIn('password', false)
      // One message for all three, so that a caller cannot tell which users exist.
      throw new AuthenticationError(`login failed for user ${userId}: unknown user or wrong password`)
    }
    this.#kernel.metrics.loggedIn('password', true)
    await this.#throttle.settle(counted)
  }

  /**
   * A voice-print login, relayed by a House Mate controller: counted before it is checked, per controller and
   * per address; its token lives `voiceTokenLifetimeSeconds`.
   */
  async loginVoicePrint(
    voicePrint: string,
    context: VoicePrintContext & { controller: string },
  ): Promise<LoginResult> {
    const { controller } = context
    const rules = voicePrintRules(this.#throttle.limits, controller, context.address)
    const counted = await this.#throttle.admit(rules, 'anonymous', 'login.voice_print', '-')
    const userId = this.#index.voicePrints.get(digestVoicePrint(voicePrint))
    if (!userId || !this.#index.users.has(userId)) {
      this.#kernel.audit({
        actor: 'anonymous',
        action: 'login.voice_print',
        resource: '-',
        outcome: 'Authentication',
        reason: `no user has this voice print (relayed by ${controller})`,
      })
      this.#kernel.metrics.loggedIn('voice_print', false)
      throw new AuthenticationError('voice print login failed: no user has this voice print')
    }
    this.#kernel.metrics.loggedIn('voice_print', true)
    await this.#throttle.settle(counted)
    return this.#startSession(userId, 'voice_print', context)
  }

  /**
   * A session for an in-process service account (the House Mate controller), which holds `admin` but has no
   * credential: it cannot log in from outside, and does not end bootstrap mode.
   */
  async serviceSession(userId: string, name: string): Promise<LoginResult> {
    if (!this.#index.users.has(userId) || !isAdministrator(this.#index, userId)) {
      await this.#kernel.write(() => {
        const changes: PlannedChange[] = []
        if (!this.#index.users.has(userId))
          changes.push({ tbl: 'users', op: 'put', row: { id: userId, name } })
        changes.push({
          tbl: 'user_grants',
          op: 'put',
          row: { user_id: userId, grant_kind: 'permission', target_id: ADMIN_PERMISSION },
        })
        const at = new Date(this.#kernel.now()).toISOString()
        return {
          changes,
          audit: [
            {
              at,
              actor: 'system',
              action: 'user.service_account',
              resource: userId,
              outcome: 'ok',
              reason: `service account ${userId} holds ${ADMIN_PERMISSION}`,
            },
          ],
          result: null,
        }
      })
    }
    return this.#startSession(userId, 'system', {})
  }

  /**
   * A session for an iSHARE party that proved who it is with a client assertion (trust/party-tokens.ts): its
   * user is the party id, made without any grant the first time; its token lives `lifetimeSeconds`.
   */
  async partySession(partyId: string, lifetimeSeconds: number, context: CallContext): Promise<LoginResult> {
    if (!this.#index.users.has(partyId))
      await this.#kernel.write(() => ({
        changes: this.#index.users.has(partyId)
          ? []
          : [{ tbl: 'users', op: 'put', row: { id: partyId, name: `iSHARE party ${partyId}` } }],
        audit: [
          {
            at: new Date(this.#kernel.now()).toISOString(),
            actor: 'system',
            action: 'user.party',
            resource: partyId,
            outcome: 'ok',
            reason: `${partyId} authenticated with a client assertion: a user without grants`,
          },
        ],
        result: null,
      }))
    return this.#startSession(partyId, 'client_assertion', context, lifetimeSeconds)
  }

  async #startSession(
    userId: string,
    method: AccessTokenRow['method'],
    context: VoicePrintContext,
    lifetime?: number,
  ): Promise<LoginResult> {
    const { config } = this.#kernel
    const lifetimeSeconds =
      lifetime ?? (method === 'voice_print' ? config.voiceTokenLifetimeSeconds : config.tokenLifetimeSeconds)
    const issued = issueToken()
    const nowMs = this.#kernel.now()
    const created = new Date(nowMs).toISOString()
    const row: AccessTokenRow = {
      id: issued.id,
      user_id: userId,
      secret_hash: issued.secretHash,
      method,
      created_at: created,
      expires_at: new Date(nowMs + lifetimeSeconds * 1000).toISOString(),
      idle_timeout_seconds: config.idleTimeoutSeconds,
      last_used_at: created,
      ended_at: null,
    }
    const outcome = await this.#kernel.write(() => {
      const plan = plans.startToken(row)
      const reason = `${plan.summary}${context.address ? ` from ${context.address}` : ''}${context.controller ? ` through controller ${context.controller}` : ''}`
      return {
        changes: plan.changes,
        audit: [
          { at: created, actor: userId, action: `login.${method}`, resource: userId, outcome: 'ok', reason },
        ],
        result: null,
      }
    })
    return {
      token: issued.token,
      tokenId: row.id,
      userId,
      expiresAt: row.expires_at,
      idleTimeoutSeconds: row.idle_timeout_seconds,
      revision: outcome.revision,
    }
  }

  /** Ends the session of `token`. A token that is unknown or does not match is refused. */
  async logout(token: string): Promise<ChangeResult> {
    const row = matchToken(this.#index, token, this.#verified)
    if ('error' in row) {
      this.#kernel.audit({
        actor: 'anonymous',
        action: 'logout',
        resource: '-',
        outcome: 'InvalidAccessToken',
        reason: row.error,
      })
      throw new InvalidAccessTokenError(`logout refused: ${row.error}`)
    }
    const outcome = await this.#kernel.write(() => {
      const at = new Date(this.#kernel.now()).toISOString()
      const plan = plans.endToken(this.#index, row.id, at)
      return {
        changes: plan.changes,
        audit: [
          { at, actor: row.user_id, action: 'logout', resource: row.id, outcome: 'ok', reason: plan.summary },
        ],
        result: plan.summary,
      }
    })
    this.#activity.delete(row.id)
    return { revision: outcome.revision, summary: outcome.result }
  }

  /** Validates a token and, when it is good, counts this as a use (extending its idle window). */
  useToken(token: string): TokenCheck {
    const nowMs = this.#kernel.now()
    const check = validateToken(this.#index, token, nowMs, this.#activity, this.#verified)
    if (check.ok) {
      this.#activity.set(check.token.id, nowMs)
      // Written back with the next batch, so other nodes see the token in use.
      const dueAt = check.storedUseMs + touchSlackMs(check.token)
      if (dueAt < this.#dueFrom) this.#dueFrom = dueAt
      if (nowMs >= dueAt) this.#kernel.scheduleFlush()
    }
    return check
  }

  /** Who holds this token, if it is usable now (without counting as a use). */
  whoHolds(token: string): TokenCheck {
    return validateToken(this.#index, token, this.#kernel.now(), this.#activity, this.#verified)
  }

  /** Removes tokens that ended or expired more than a day ago, from the store and every node's Index. */
  async purgeTokens(): Promise<number> {
    const cutoff = new Date(this.#kernel.now() - TOKEN_RETENTION_MS).toISOString()
    const outcome = await this.#kernel.write(() => {
      const plan = plans.purgeTokens(this.#index, cutoff)
      const audit =
        plan.changes.length > 0
          ? [
              {
                at: new Date(this.#kernel.now()).toISOString(),
                actor: 'system',
                action: 'token.purge',
                resource: '-',
                outcome: 'ok',
                reason: plan.summary,
              },
            ]
          : []
      return { changes: plan.changes, audit, result: plan.changes.length }
    })
    return outcome.result
  }
}
