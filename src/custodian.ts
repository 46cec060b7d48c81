import { randomBytes } from 'node:crypto'
import type { AuditEntry } from './audit/chain.js'
import { verifyAuditChain } from './audit/chain.js'
import { type Config, defaultConfig } from './config.js'
import { ConsentModel } from './consent/consent-model.js'
import type { Decision } from './decision/decision.js'
import { decideAccessAny } from './entitlements/check.js'
import {
  decoyPasswordHash,
  digestVoicePrint,
  hashPassword,
  verifyPassword,
} from './entitlements/credentials.js'
import { EntitlementIndex } from './entitlements/entitlement-index.js'
import { ADMIN_PERMISSION, HOUSEMATE_CONTROLLER_PERMISSION } from './entitlements/permissions.js'
import * as plans from './entitlements/plans.js'
import {
  type Admission,
  admitAttempt,
  type LoginLimits,
  passwordRules,
  settleSuccess,
  type ThrottleRule,
  voicePrintRules,
} from './entitlements/throttle.js'
import { issueToken, matchToken, parseToken, type TokenCheck, validateToken } from './entitlements/tokens.js'
import {
  AccessDeniedError,
  AuthenticationError,
  CustodianError,
  InvalidAccessTokenError,
  invalid,
  isCustodianError,
} from './errors.js'
import { CONTROLLER_USER } from './housemate/controller.js'
import { HouseModel } from './housemate/house-model.js'
import { CatalogModel } from './licences/catalog-model.js'
import { createLogger, type Logger } from './logger.js'
import type { AccessTokenRow, CredentialKind, GrantKind } from './store/schema.js'
import {
  type Change,
  openStore,
  type PlannedChange,
  type Snapshot,
  type Store,
  type WritePlan,
} from './store/store.js'
import { RegisterModel } from './trust/register-model.js'

export interface CustodianOptions {
  /** SQLite file path or postgres:// URL; defaults to config.db. */
  db?: string
  config?: Partial<Config>
  logger?: Logger
  /** Milliseconds since the epoch; tests move time with it. */
  clock?: () => number
  /** Follow the change log written by other processes (default true). */
  follow?: boolean
}

/** The result of an administrative change. */
export interface ChangeResult {
  revision: number
  summary: string
  details?: Record<string, unknown>
}

export interface LoginResult {
  token: string
  tokenId: string
  userId: string
  expiresAt: string
  idleTimeoutSeconds: number
  revision: number
}

/** The answer to check_access: a Decision, and on refusal which error the edges should raise. */
export interface AccessCheck extends Decision {
  userId?: string
  error?: 'InvalidAccessToken' | 'AccessDenied'
}

/** Every projection of the change log, as planners see them under the write lock. */
export interface World {
  index: EntitlementIndex
  model: HouseModel
  consent: ConsentModel
  catalog: CatalogModel
  register: RegisterModel
}

export interface CallContext {
  /** Client network address, for login throttling and the audit log. */
  address?: string
}

export interface VoicePrintContext extends CallContext {
  /**
   * The House Mate controller relaying the voice print, as its caller authenticated it (over HTTP: the user of
   * the controller's token, see authorizeController). Default: the in-process controller's service account.
   */
  controller?: string
}

const MAX_SECRET_LENGTH = 1_024
/**
 * A token's uses are written back to the store at most this often, a tenth of its idle timeout (at most a
 * minute): other nodes may see it idle up to that much early, and in exchange a check costs no write.
 */
const touchSlackMs = (row: AccessTokenRow) => Math.min(60_000, row.idle_timeout_seconds * 100)
const PURGE_EVERY_MS = 3_600_000
/** Ended and expired tokens are kept this long (for the audit trail's sake), then dropped. */
const TOKEN_RETENTION_MS = 86_400_000
/** An address a user logged in from is exempt from that user's slow-down this long. */
const KNOWN_ADDRESS_SECONDS = 30 * 86_400

/**
 * One Custodian node: the store, the Index built from it and kept fresh from the change log, the audit
 * log, and sessions. Decisions are taken by the pure functions in entitlements/ over `index`; this class
 * does the I/O around them.
 */
export class Custodian {
  readonly config: Config
  readonly log: Logger
  readonly store: Store
  readonly index: EntitlementIndex
  /** The House Mate model, a second projection of the same change log. */
  readonly model: HouseModel
  /** ESPI consent: customers, usage points, third parties, Authorization records. */
  readonly consent: ConsentModel
  /** The trust-framework catalog: participants, data services, licence interpretations. */
  readonly catalog: CatalogModel
  /** The iSHARE Authorization Register: data owners' delegation evidence. */
  readonly register: RegisterModel
  readonly #clock: () => number
  readonly #limits: LoginLimits
  /** Token id -> latest use on this node, written back to the store lazily. */
  readonly #activity = new Map<string, number>()
  #pendingAudit: AuditEntry[] = []
  #flushTimer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()
  #catchingUp: Promise<number> | undefined
  #pollTimer: NodeJS.Timeout | undefined
  #purgeTimer: NodeJS.Timeout | undefined
  #unsubscribe: (() => Promise<void>) | undefined
  #closed = false

  private constructor(store: Store, snapshot: Snapshot, config: Config, log: Logger, clock: () => number) {
    this.store = store
    this.index = EntitlementIndex.fromSnapshot(snapshot)
    this.model = HouseModel.fromSnapshot(snapshot)
    this.consent = ConsentModel.fromSnapshot(snapshot)
    this.catalog = CatalogModel.fromSnapshot(snapshot)
    this.register = RegisterModel.fromSnapshot(snapshot)
    this.config = config
    this.log = log
    this.#clock = clock
    this.#limits = {
      maxFailuresPerUser: config.loginMaxFailuresPerUser,
      maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
      lockoutSeconds: config.loginLockoutSeconds,
      maxLockoutSeconds: config.loginMaxLockoutSeconds,
      slowAfterFailures: config.loginSlowAfterFailures,
      slowSeconds: config.loginSlowSeconds,
      windowSeconds: config.loginMaxLockoutSeconds,
      knownAddressSeconds: KNOWN_ADDRESS_SECONDS,
    }
  }

  static async open(options: CustodianOptions = {}): Promise<Custodian> {
    const config = { ...defaultConfig(), ...options.config }
    const log = options.logger ?? createLogger(config.logLevel)
    const store = await openStore(options.db ?? config.db)
    const custodian = new Custodian(store, await store.loadSnapshot(), config, log, options.clock ?? Date.now)
    if (options.follow !== false) await custodian.#follow()
    return custodian
  }

  #world(): World {
    return {
      index: this.index,
      model: this.model,
      consent: this.consent,
      catalog: this.catalog,
      register: this.register,
    }
  }

  /** The projections as they stand, for read-only checks before a write (which checks again under the lock). */
  get world(): World {
    return this.#world()
  }

  /** Every projection sees every committed change, in order. */
  #apply(changes: readonly Change[]): void {
    this.index.apply(changes)
    this.model.apply(changes)
    this.consent.apply(changes)
    this.catalog.apply(changes)
    this.register.apply(changes)
  }

  /** Where third parties and customers reach this server; `serve` fills it in when not configured. */
  get publicUrl(): string {
    return (this.config.publicUrl || `http://${this.config.host}:${this.config.port}`).replace(/\/$/, '')
  }

  get revision(): number {
    return this.index.revision
  }

  now(): number {
    return this.#clock()
  }

  // --- keeping the Index fresh -------------------------------------------------------------------------

  async #follow(): Promise<void> {
    const poll = () => {
      this.catchUp().catch((error) =>
        this.log.warn({ err: error }, 'reading the change log failed; will retry'),
      )
    }
    this.#pollTimer = setInterval(poll, this.config.changePollMs)
    this.#pollTimer.unref()
    this.#purgeTimer = setInterval(() => {
      // Expired OAuth records go too (codes and tokens kept a little past expiry to report "expired").
      this.store.oidc
        .deleteExpired(Date.now())
        .catch((error) => this.log.warn({ err: error }, 'purging expired OAuth records failed'))
      // Throttle keys with nothing to remember: no lock, no failure in the window, no recent success.
      const nowMs = this.now()
      this.store.throttle
        .purge(
          nowMs,
          nowMs - this.#limits.windowSeconds * 1000,
          nowMs - this.#limits.knownAddressSeconds * 1000,
        )
        .catch((error) => this.log.warn({ err: error }, 'purging old login throttle records failed'))
      this.purgeTokens().catch((error) =>
        this.log.warn({ err: error }, 'purging old tokens failed; will retry'),
      )
    }, PURGE_EVERY_MS)
    this.#purgeTimer.unref()
    this.#unsubscribe = await this.store.subscribe(poll, (error) =>
      this.log.warn({ err: error }, 'change notifications lost; polling continues'),
    )
  }

  /** Applies every change committed since the Index's revision; resolves to the new revision. */
  catchUp(): Promise<number> {
    this.#catchingUp ??= (async () => {
      try {
        for (;;) {
          const changes = await this.store.changesSince(this.index.revision)
          if (changes.length === 0) return this.index.revision
          this.#apply(changes)
        }
      } finally {
        this.#catchingUp = undefined
      }
    })()
    return this.#catchingUp
  }

  /** Waits until the Index has reached `revision` (a caller's own earlier write, say). */
  async atLeast(revision: number): Promise<void> {
    if (this.index.revision >= revision) return
    await this.catchUp()
    // The read awaited may have begun before the caller's write committed; one more begins after it.
    if (this.index.revision < revision) await this.catchUp()
    if (this.index.revision < revision) {
      throw new CustodianError(
        'Validation',
        `revision ${revision} has not been written yet; the store is at revision ${this.index.revision}`,
      )
    }
  }

  // --- audit -------------------------------------------------------------------------------------------

  /** Queues an audit record; decisions are written in batches within `auditFlushMs`. */
  audit(entry: Omit<AuditEntry, 'at'>): void {
    this.#pendingAudit.push({ at: new Date(this.now()).toISOString(), ...entry })
    this.#scheduleFlush()
  }

  #scheduleFlush(): void {
    if (this.#flushTimer || this.#closed) return
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined
      this.flush().catch((error) => this.log.error({ err: error }, 'writing audit records failed'))
    }, this.config.auditFlushMs)
  }

  /** Writes queued audit records and token activity now; resolves once they are committed. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(
      () => this.#flushOnce(),
      () => this.#flushOnce(),
    )
    return this.#flushing
  }

  async #flushOnce(): Promise<void> {
    const entries = this.#pendingAudit
    if (entries.length === 0 && this.#dueTouches().length === 0) return
    this.#pendingAudit = []
    try {
      const outcome = await this.store.write(this.index.revision, (pending) => {
        this.#apply(pending)
        // Decided under the lock, after other nodes' changes: a token ended elsewhere is not written back.
        const touches = this.#dueTouches()
        return {
          changes: touches.map((row) => ({ tbl: 'access_tokens', op: 'put', row }) as const),
          audit: entries,
          result: null,
        }
      })
      this.#apply(outcome.changes)
    } catch (error) {
      this.#pendingAudit = entries.concat(this.#pendingAudit)
      throw error
    }
  }

  /**
   * Tokens whose last use on this node is far enough past the stored one to be worth writing back (any use
   * at all when closing), so that other nodes see them in use.
   */
  #dueTouches(): AccessTokenRow[] {
    const rows: AccessTokenRow[] = []
    for (const [id, usedMs] of this.#activity) {
      const row = this.index.tokens.get(id)
      const storedMs = row ? Date.parse(row.last_used_at) : 0
      if (!row || row.ended_at || usedMs <= storedMs) {
        this.#activity.delete(id)
        continue
      }
      if (this.#closed || usedMs - storedMs >= touchSlackMs(row))
        rows.push({ ...row, last_used_at: new Date(usedMs).toISOString() })
    }
    return rows
  }

  /** Checks the whole audit chain and the head recorded with the last append. */
  async verifyAudit(): Promise<{ count: number; problems: { seq: number; problem: string }[] }> {
    await this.flush()
    let last = { seq: 0, hash: '0'.repeat(64) }
    let count = 0
    const problems: { seq: number; problem: string }[] = []
    for (;;) {
      const rows = await this.store.readAudit(last.seq, 5_000)
      if (rows.length === 0) break
      const result = verifyAuditChain(rows, last)
      problems.push(...result.problems)
      count += result.count
      last = result.last
    }
    const head = await this.store.auditHead()
    if (head.seq > last.seq)
      problems.push({
        seq: head.seq,
        problem: `records ${last.seq + 1}..${head.seq} were removed from the end`,
      })
    else if (head.seq === last.seq && head.hash !== last.hash)
      problems.push({ seq: head.seq, problem: 'the last record does not match the recorded head' })
    return { count, problems }
  }

  // --- administrative changes --------------------------------------------------------------------------

  /**
   * Runs one administrative change: authorizes `token` (or bootstrap mode) and plans the change against the
   * Index caught up under the store's write lock, then commits rows, change records and the audit record.
   */
  async change(
    token: string | undefined,
    action: string,
    resource: string,
    plan: (world: World, now: string) => plans.Plan,
  ): Promise<ChangeResult> {
    let actor = 'anonymous'
    try {
      const outcome = await this.store.write(this.index.revision, (pending) => {
        this.#apply(pending)
        actor = this.#authorizeAdmin(token, action, (userId) => {
          actor = userId
        })
        const planned = plan(this.#world(), new Date(this.now()).toISOString())
        const at = new Date(this.now()).toISOString()
        return writePlan(planned, { at, actor, action, resource })
      })
      this.#apply(outcome.changes)
      return changeResult(outcome)
    } catch (error) {
      if (isCustodianError(error))
        this.audit({ actor, action, resource, outcome: error.code, reason: error.message })
      throw error
    }
  }

  /** Who may run an administrative action: bootstrap mode, or a valid token of a user holding `admin`. */
  #authorizeAdmin(
    token: string | undefined,
    action: string,
    identified: (userId: string) => void = () => {},
  ): string {
    // A token that is given is always checked, even in bootstrap mode, so a stale one never passes silently.
    if (token === undefined) {
      if (this.index.isBootstrap()) return 'bootstrap'
      throw new AccessDeniedError(
        `${action} needs the access token of a user holding the ${ADMIN_PERMISSION} permission, and none was given: log in as an administrator first`,
      )
    }
    const check = this.#useToken(token)
    if (!check.ok) throw new InvalidAccessTokenError(check.reason)
    const userId = check.token.user_id
    identified(userId)
    if (this.index.isBootstrap()) return userId
    if (!this.index.effective(userId).global.has(ADMIN_PERMISSION)) {
      throw new AccessDeniedError(
        `${userId} may not ${action}: it needs the ${ADMIN_PERMISSION} permission, which ${userId} does not hold`,
      )
    }
    return userId
  }

  /**
   * A change made by a user rather than an administrator: `token` must be valid (checked under the write
   * lock, like everything the plan reads), and the plan decides whether this user may make it.
   */
  async writeAs(
    token: string | null | undefined,
    action: string,
    resource: string,
    plan: (world: World, now: string, userId: string) => plans.Plan,
  ): Promise<ChangeResult> {
    return this.#writeBy(() => this.authenticate(token, action, resource), action, resource, plan)
  }

  /**
   * A change by a user whom the caller has authenticated another way (the OAuth interaction's session):
   * in-process only, never reachable with a bare user id from outside.
   */
  writeFor(
    userId: string,
    action: string,
    resource: string,
    plan: (world: World, now: string, userId: string) => plans.Plan,
  ): Promise<ChangeResult> {
    return this.#writeBy(() => userId, action, resource, plan)
  }

  async #writeBy(
    who: () => string,
    action: string,
    resource: string,
    plan: (world: World, now: string, userId: string) => plans.Plan,
  ): Promise<ChangeResult> {
    const outcome = await this.store.write(this.index.revision, (pending) => {
      this.#apply(pending)
      const userId = who()
      const at = new Date(this.now()).toISOString()
      const planned = plan(this.#world(), at, userId)
      return writePlan(planned, { at, actor: userId, action, resource })
    })
    this.#apply(outcome.changes)
    return changeResult(outcome)
  }

  /** A user's change that needs one of `permissions` on `resource` (a device's status, say). */
  changeAs(
    token: string | null | undefined,
    permissions: readonly string[],
    resource: string,
    action: string,
    plan: (world: World, now: string, userId: string) => plans.Plan,
  ): Promise<ChangeResult> {
    return this.writeAs(token, action, resource, (world, now, userId) => {
      this.assertAccessAny(token, permissions, resource)
      return plan(world, now, userId)
    })
  }

  /**
   * A session for an in-process service account (the House Mate controller), which holds `admin` but has no
   * credential: it cannot log in from outside, and does not end bootstrap mode.
   */
  async serviceSession(userId: string, name: string): Promise<LoginResult> {
    if (!this.index.users.has(userId) || !this.index.effective(userId).global.has(ADMIN_PERMISSION)) {
      const outcome = await this.store.write(this.index.revision, (pending) => {
        this.#apply(pending)
        const changes: PlannedChange[] = []
        if (!this.index.users.has(userId))
          changes.push({ tbl: 'users', op: 'put', row: { id: userId, name } })
        changes.push({
          tbl: 'user_grants',
          op: 'put',
          row: { user_id: userId, grant_kind: 'permission', target_id: ADMIN_PERMISSION },
        })
        const at = new Date(this.now()).toISOString()
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
      this.#apply(outcome.changes)
    }
    return this.#startSession(userId, 'system', {})
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

  /** Authorizes an administrative action outside the change log (lists, the audit log, data imports); returns who asked. */
  authorizeAdminAction(token: string | undefined, action: string): string {
    let actor = 'anonymous'
    try {
      return this.#authorizeAdmin(token, action, (userId) => {
        actor = userId
      })
    } catch (error) {
      if (isCustodianError(error))
        this.audit({ actor, action, resource: '-', outcome: error.code, reason: error.message })
      throw error
    }
  }

  definePermission(token: string | undefined, input: { id: string; name: string; description: string }) {
    return this.change(token, 'permission.define', input.id, ({ index }) =>
      plans.definePermission(index, input),
    )
  }
  deletePermission(token: string | undefined, id: string) {
    return this.change(token, 'permission.delete', id, ({ index }) => plans.deletePermission(index, id))
  }
  defineRole(token: string | undefined, input: { id: string; name: string; description: string }) {
    return this.change(token, 'role.define', input.id, ({ index }) => plans.defineRole(index, input))
  }
  deleteRole(token: string | undefined, id: string) {
    return this.change(token, 'role.delete', id, ({ index }) => plans.deleteRole(index, id))
  }
  addEntitlementToRole(token: string | undefined, roleId: string, entitlementId: string) {
    return this.change(token, 'role.add_entitlement', roleId, ({ index }) =>
      plans.addEntitlementToRole(index, roleId, entitlementId),
    )
  }
  removeEntitlementFromRole(token: string | undefined, roleId: string, entitlementId: string) {
    return this.change(token, 'role.remove_entitlement', roleId, ({ index }) =>
      plans.removeEntitlementFromRole(index, roleId, entitlementId),
    )
  }
  createUser(token: string | undefined, input: { id: string; name: string }) {
    return this.change(token, 'user.create', input.id, ({ index }) => plans.createUser(index, input))
  }
  deleteUser(token: string | undefined, id: string) {
    return this.change(token, 'user.delete', id, ({ index }, now) => plans.deleteUser(index, id, now))
  }
  async addUserCredential(token: string | undefined, userId: string, kind: CredentialKind, value: string) {
    if (kind !== 'password' && kind !== 'voice_print')
      throw invalid(`credential kind must be password or voice_print, not "${kind}"`)
    if (value === '' || value.length > MAX_SECRET_LENGTH)
      throw invalid(`the ${kind} must be 1 to ${MAX_SECRET_LENGTH} characters`)
    const secret = kind === 'password' ? await hashPassword(value) : digestVoicePrint(value)
    return this.change(token, 'user.set_credential', `${userId}/${kind}`, ({ index }) =>
      plans.setCredential(index, userId, kind, secret),
    )
  }
  removeUserCredential(token: string | undefined, userId: string, kind: CredentialKind) {
    return this.change(token, 'user.remove_credential', `${userId}/${kind}`, ({ index }) =>
      plans.removeCredential(index, userId, kind),
    )
  }
  /** Grants a role or a permission, whichever the id names. */
  grantToUser(token: string | undefined, userId: string, entitlementId: string) {
    return this.change(token, 'user.grant', `${userId}/${entitlementId}`, ({ index }) =>
      plans.grantEntitlement(index, userId, entitlementId),
    )
  }
  grantResourceRoleToUser(token: string | undefined, userId: string, resourceRoleId: string) {
    return this.change(token, 'user.grant', `${userId}/${resourceRoleId}`, ({ index }) =>
      plans.grantResourceRole(index, userId, resourceRoleId),
    )
  }
  revokeFromUser(token: string | undefined, userId: string, kind: GrantKind, targetId: string) {
    return this.change(token, 'user.revoke', `${userId}/${targetId}`, ({ index }) =>
      plans.revokeGrant(index, userId, kind, targetId),
    )
  }
  createResource(
    token: string | undefined,
    input: { id: string; description: string; parentId?: string | null },
  ) {
    return this.change(token, 'resource.create', input.id, ({ index }) => plans.createResource(index, input))
  }
  deleteResource(token: string | undefined, id: string) {
    return this.change(token, 'resource.delete', id, ({ index }) => plans.deleteResource(index, id))
  }
  createResourceRole(token: string | undefined, input: { id: string; roleId: string; resourceId: string }) {
    return this.change(token, 'resource_role.create', input.id, ({ index }) =>
      plans.createResourceRole(index, input),
    )
  }
  deleteResourceRole(token: string | undefined, id: string) {
    return this.change(token, 'resource_role.delete', id, ({ index }) => plans.deleteResourceRole(index, id))
  }

  /**
   * For `serve` on a store with no administrator: creates one with a random password, returned once so
   * it can be printed. Decided under the write lock, so two nodes starting together make only one.
   */
  async ensureAdmin(): Promise<{ userId: string; password: string } | undefined> {
    if (!this.index.isBootstrap()) await this.catchUp()
    if (!this.index.isBootstrap()) return undefined
    const password = randomBytes(18).toString('base64url')
    const secret = await hashPassword(password)
    const outcome = await this.store.write(this.index.revision, (pending) => {
      this.#apply(pending)
      if (!this.index.isBootstrap()) return { changes: [], audit: [], result: undefined }
      let userId = 'admin'
      while (this.index.users.has(userId)) userId = `admin-${randomBytes(3).toString('hex')}`
      const at = new Date(this.now()).toISOString()
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
    this.#apply(outcome.changes)
    return outcome.result ? { userId: outcome.result, password } : undefined
  }

  /** Removes tokens that ended or expired more than a day ago, from the store and every node's Index. */
  async purgeTokens(): Promise<number> {
    const cutoff = new Date(this.now() - TOKEN_RETENTION_MS).toISOString()
    const outcome = await this.store.write(this.index.revision, (pending) => {
      this.#apply(pending)
      const plan = plans.purgeTokens(this.index, cutoff)
      const audit =
        plan.changes.length > 0
          ? [
              {
                at: new Date(this.now()).toISOString(),
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
    this.#apply(outcome.changes)
    return outcome.result
  }

  // --- sessions ----------------------------------------------------------------------------------------

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
    const rules = passwordRules(this.#limits, userId, context.address)
    const counted = await this.#admit(rules, userId, 'login.password', userId)
    const stored = this.index.passwordHashes.get(userId)
    const matches = await verifyPassword(
      stored ?? (await decoyPasswordHash()),
      password.slice(0, MAX_SECRET_LENGTH),
    )
    if (!stored || !matches || !this.index.users.has(userId)) {
      const why = !this.index.users.has(userId)
        ? 'unknown user'
        : !stored
          ? 'user has no password credential'
          : 'wrong password'
      this.audit({
        actor: userId,
        action: 'login.password',
        resource: userId,
        outcome: 'Authentication',
        reason: why,
      })
      // One message for all three, so that a caller cannot tell which users exist.
      throw new AuthenticationError(`login failed for user ${userId}: unknown user or wrong password`)
    }
    await this.#settle(counted)
  }

  /**
   * A voice-print login, relayed by a House Mate controller (see VoicePrintContext): counted before it is
   * checked, per controller and per address; its token lives `voiceTokenLifetimeSeconds`.
   */
  async loginVoicePrint(voicePrint: string, context: VoicePrintContext = {}): Promise<LoginResult> {
    const controller = context.controller ?? CONTROLLER_USER
    const rules = voicePrintRules(this.#limits, controller, context.address)
    const counted = await this.#admit(rules, 'anonymous', 'login.voice_print', '-')
    const userId = this.index.voicePrints.get(digestVoicePrint(voicePrint))
    if (!userId || !this.index.users.has(userId)) {
      this.audit({
        actor: 'anonymous',
        action: 'login.voice_print',
        resource: '-',
        outcome: 'Authentication',
        reason: `no user has this voice print (relayed by ${controller})`,
      })
      throw new AuthenticationError('voice print login failed: no user has this voice print')
    }
    await this.#settle(counted)
    return this.#startSession(userId, 'voice_print', { ...context, controller })
  }

  /**
   * The user of a House Mate controller's token: valid, and holding HOUSEMATE_CONTROLLER_PERMISSION. Only a
   * controller may present voice prints over the network.
   */
  authorizeController(token: string | undefined, action: string): string {
    const userId = this.authenticate(token, action, '-')
    if (!this.index.effective(userId).global.has(HOUSEMATE_CONTROLLER_PERMISSION)) {
      const reason = `${userId} may not ${action}: only a House Mate controller may, holding the ${HOUSEMATE_CONTROLLER_PERMISSION} permission`
      this.audit({ actor: userId, action, resource: '-', outcome: 'AccessDenied', reason })
      throw new AccessDeniedError(reason)
    }
    return userId
  }

  /** Counts an attempt on its rules before the secret is checked; refuses it if one of them is locked. */
  async #admit(rules: ThrottleRule[], actor: string, action: string, resource: string) {
    const nowMs = this.now()
    const admission = await this.store.throttle.update<Admission>(
      rules.map((r) => ({ key: r.key, userId: r.user ?? null })),
      (entries) => {
        const outcome = admitAttempt(rules, entries, nowMs)
        return { entries: outcome.admitted ? outcome.entries : undefined, result: outcome }
      },
    )
    if (admission.admitted) return admission.counted
    const retryAfterSeconds = Math.max(1, Math.ceil(admission.retryAfterMs / 1000))
    const message = `too many failed logins for ${describeKey(admission.rule)}; try again in ${retryAfterSeconds} s`
    this.audit({ actor, action, resource, outcome: 'Throttled', reason: message })
    throw new CustodianError('Throttled', message, { retryAfterSeconds })
  }

  /** A successful check: the user at this address starts afresh, and the other keys take the attempt back. */
  async #settle(counted: ThrottleRule[]): Promise<void> {
    const nowMs = this.now()
    await this.store.throttle.update(
      counted.map((r) => ({ key: r.key, userId: r.user ?? null })),
      (entries) => ({ entries: settleSuccess(counted, entries, nowMs), result: undefined }),
    )
  }

  /** An administrator clears every login lock and failure count of a user (at every address); audited. */
  async unlockUser(token: string | undefined, userId: string): Promise<ChangeResult> {
    const actor = this.authorizeAdminAction(token, `unlock user ${userId}`)
    const locked = await this.store.throttle.unlockUser(userId, this.now())
    const summary = `cleared the login failures of user ${userId} (${locked} lock${locked === 1 ? '' : 's'} lifted)`
    this.audit({ actor, action: 'user.unlock', resource: userId, outcome: 'ok', reason: summary })
    return { revision: this.revision, summary, details: { locks: locked } }
  }

  async #startSession(
    userId: string,
    method: AccessTokenRow['method'],
    context: VoicePrintContext,
  ): Promise<LoginResult> {
    const lifetimeSeconds =
      method === 'voice_print' ? this.config.voiceTokenLifetimeSeconds : this.config.tokenLifetimeSeconds
    const issued = issueToken()
    const nowMs = this.now()
    const created = new Date(nowMs).toISOString()
    const row: AccessTokenRow = {
      id: issued.id,
      user_id: userId,
      secret_hash: issued.secretHash,
      method,
      created_at: created,
      expires_at: new Date(nowMs + lifetimeSeconds * 1000).toISOString(),
      idle_timeout_seconds: this.config.idleTimeoutSeconds,
      last_used_at: created,
      ended_at: null,
    }
    const outcome = await this.store.write(this.index.revision, (pending) => {
      this.#apply(pending)
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
    this.#apply(outcome.changes)
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
    const row = matchToken(this.index, token)
    if ('error' in row) {
      this.audit({
        actor: 'anonymous',
        action: 'logout',
        resource: '-',
        outcome: 'InvalidAccessToken',
        reason: row.error,
      })
      throw new InvalidAccessTokenError(`logout refused: ${row.error}`)
    }
    const outcome = await this.store.write(this.index.revision, (pending) => {
      this.#apply(pending)
      const at = new Date(this.now()).toISOString()
      const plan = plans.endToken(this.index, row.id, at)
      return {
        changes: plan.changes,
        audit: [
          { at, actor: row.user_id, action: 'logout', resource: row.id, outcome: 'ok', reason: plan.summary },
        ],
        result: plan.summary,
      }
    })
    this.#apply(outcome.changes)
    this.#activity.delete(row.id)
    return { revision: outcome.revision, summary: outcome.result }
  }

  /** Validates a token and, when it is good, counts this as a use (extending its idle window). */
  #useToken(token: string): TokenCheck {
    const parsed = parseToken(token)
    const nowMs = this.now()
    const check = validateToken(this.index, token, nowMs, parsed ? this.#activity.get(parsed.id) : undefined)
    if (check.ok) {
      this.#activity.set(check.token.id, nowMs)
      if (
        nowMs - Date.parse(check.token.last_used_at) >=
        Math.min(60_000, check.token.idle_timeout_seconds * 100)
      ) {
        this.#scheduleFlush() // written back with the next batch, so other nodes see the token in use
      }
    }
    return check
  }

  // --- the check ---------------------------------------------------------------------------------------

  /**
   * check_access(token, permission, resource) as a value: never throws for a refusal. Every decision is
   * recorded in the audit log.
   */
  checkAccess(token: string, permission: string, resourceId: string): AccessCheck {
    return this.checkAccessAny(token, [permission], resourceId)
  }

  /** Allowed when the token's user holds any one of `permissions` (a reader may view or control, say). */
  checkAccessAny(token: string, permissions: readonly string[], resourceId: string): AccessCheck {
    const action = `check:${permissions.join('|')}`
    const check = this.#useToken(token)
    if (!check.ok) {
      this.audit({
        actor: 'anonymous',
        action,
        resource: resourceId,
        outcome: 'InvalidAccessToken',
        reason: check.reason,
      })
      return {
        allowed: false,
        reason: check.reason,
        obligations: [],
        revision: this.index.revision,
        error: 'InvalidAccessToken',
      }
    }
    const userId = check.token.user_id
    const decision = decideAccessAny(this.index, userId, permissions, resourceId)
    this.audit({
      actor: userId,
      action,
      resource: resourceId,
      outcome: decision.allowed ? 'allowed' : 'denied',
      reason: decision.reason,
    })
    return decision.allowed ? { ...decision, userId } : { ...decision, userId, error: 'AccessDenied' }
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
    const what = `${permissions.join(' or ')} on ${resourceId} refused`
    if (result.error === 'InvalidAccessToken') {
      throw new InvalidAccessTokenError(`${what}: ${result.reason}`, {
        permission: permissions.join(' '),
        resource: resourceId,
      })
    }
    if (result.error === 'AccessDenied') {
      throw new AccessDeniedError(`${what}: ${result.reason}`, {
        permission: permissions.join(' '),
        resource: resourceId,
        user: result.userId,
      })
    }
    return result
  }

  /**
   * The user a token belongs to, counting this as a use; refuses (audited) a missing, empty, unknown,
   * logged-out, expired or idle token.
   */
  authenticate(token: string | null | undefined, action: string, resource: string): string {
    const check = this.#useToken(token ?? '')
    if (!check.ok) {
      this.audit({
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

  /** Who holds this token, if it is usable now (without counting as a use). */
  whoHolds(token: string): TokenCheck {
    return validateToken(this.index, token, this.now(), this.#activity.get(parseToken(token)?.id ?? ''))
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#pollTimer) clearInterval(this.#pollTimer)
    if (this.#purgeTimer) clearInterval(this.#purgeTimer)
    if (this.#flushTimer) clearTimeout(this.#flushTimer)
    await this.#unsubscribe?.()
    await this.flush().catch((error) =>
      this.log.error({ err: error }, 'writing the last audit records failed'),
    )
    await this.store.close()
  }
}

/** A planned change as the store commits it: its rows, its audit record, its messages. */
function writePlan(
  planned: plans.Plan,
  audit: { at: string; actor: string; action: string; resource: string },
): WritePlan<plans.Plan> {
  return {
    changes: planned.changes,
    audit: [{ ...audit, outcome: 'ok', reason: planned.summary }],
    outbox: planned.outbox ?? [],
    result: planned,
  }
}

function changeResult(outcome: { revision: number; result: plans.Plan }): ChangeResult {
  const { summary, details } = outcome.result
  return details ? { revision: outcome.revision, summary, details } : { revision: outcome.revision, summary }
}

export const openCustodian = (options?: CustodianOptions) => Custodian.open(options)

/** Which throttled key refused an attempt, in words. */
function describeKey(rule: ThrottleRule): string {
  const [kind, ...rest] = rule.key.split(':')
  const name = rest.join(':')
  if (kind === 'pair') return `user ${rule.user}`
  if (kind === 'user') return `user ${rule.user} across addresses`
  if (kind === 'controller') return `voice prints relayed by controller ${name}`
  return `address ${name}`
}
