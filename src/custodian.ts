import type { AuditEntry } from './audit/chain.js'
import type { Config } from './config.js'
import { ConsentModel } from './consent/consent-model.js'
import { Access, type AccessCheck, type AccessQuestion } from './entitlements/access.js'
import { Administration } from './entitlements/administration.js'
import { EntitlementIndex } from './entitlements/entitlement-index.js'
import { LoginThrottle } from './entitlements/login-throttle.js'
import { type LoginResult, Sessions, type VoicePrintContext } from './entitlements/sessions.js'
import { registrationRules, type ThrottleRule } from './entitlements/throttle.js'
import { tooLarge } from './errors.js'
import { CONTROLLER_USER } from './housemate/controller.js'
import { HouseModel } from './housemate/house-model.js'
import { type AuditVerification, auditCutoff, pruneAuditLog } from './kernel/audit-retention.js'
import { Kernel, type NodeOptions, type Planner } from './kernel/kernel.js'
import type { Metrics } from './kernel/metrics.js'
import type { Node } from './kernel/node.js'
import type { Index, ProjectionKinds } from './kernel/projections.js'
import type { CallContext, ChangeResult } from './kernel/write-plan.js'
import { CatalogModel } from './licences/catalog-model.js'
import type { Logger } from './logger.js'
import type { Store } from './store/store.js'
import { RegisterModel } from './trust/register-model.js'

export type { AccessCheck, CallContext, ChangeResult, LoginResult, VoicePrintContext }
export type CustodianOptions = NodeOptions

/** Every projection of the change log, by its name in the Index, in the order the kernel feeds them. */
const PROJECTIONS: ProjectionKinds = {
  index: EntitlementIndex,
  model: HouseModel,
  consent: ConsentModel,
  catalog: CatalogModel,
  register: RegisterModel,
}
const PURGE_EVERY_MS = 3_600_000

/**
 * One Custodian node, composed: the kernel (store, Index, change feed, write path, audit recorder) with
 * every domain's projection registered, and the entitlements domain's sessions, access checks and
 * administration. Methods delegate; the work is in kernel/ and the domains.
 */
export class Custodian implements Node {
  readonly #kernel: Kernel
  readonly #throttle: LoginThrottle
  readonly #sessions: Sessions
  readonly #access: Access
  readonly #admin: Administration

  private constructor(kernel: Kernel) {
    this.#kernel = kernel
    this.#throttle = new LoginThrottle(kernel)
    this.#sessions = new Sessions(kernel, this.#throttle)
    this.#access = new Access(kernel, this.#sessions)
    this.#admin = new Administration(kernel, this.#access, this.#throttle)
  }

  static async open(options: CustodianOptions = {}): Promise<Custodian> {
    const custodian = new Custodian(await Kernel.open(options, PROJECTIONS))
    if (options.follow !== false) custodian.#keepTidy()
    return custodian
  }

  /**
   * Hourly: expired OAuth records, throttle keys with nothing to remember, long-ended tokens and audit
   * records past their retention (auditRetentionDays) go.
   */
  #keepTidy(): void {
    const kernel = this.#kernel
    // Expired OAuth records go too (codes and tokens kept a little past expiry to report "expired").
    kernel.every(PURGE_EVERY_MS, 'purging expired OAuth records', () =>
      kernel.store.oidc.deleteExpired(Date.now()),
    )
    kernel.every(PURGE_EVERY_MS, 'purging old login throttle records', () => this.#throttle.purge())
    kernel.every(PURGE_EVERY_MS, 'purging old tokens', () => this.purgeTokens())
    const days = kernel.config.auditRetentionDays
    if (days > 0) kernel.every(PURGE_EVERY_MS, 'pruning old audit records', () => this.pruneAudit(days))
  }

  // --- the kernel --------------------------------------------------------------------------------------

  get config(): Config {
    return this.#kernel.config
  }
  get log(): Logger {
    return this.#kernel.log
  }
  get store(): Store {
    return this.#kernel.store
  }
  get metrics(): Metrics {
    return this.#kernel.metrics
  }
  /** The Index: every projection by name, for read-only checks before a write (which checks again under the lock). */
  get projections(): Index {
    return this.#kernel.projections
  }
  /** Entitlements: users, credentials, roles, permissions, resources and tokens. */
  get index(): Index['index'] {
    return this.#kernel.projections.index
  }
  /** The House Mate model, a second projection of the same change log. */
  get model(): Index['model'] {
    return this.#kernel.projections.model
  }
  /** ESPI consent: customers, usage points, third parties, Authorization records. */
  get consent(): Index['consent'] {
    return this.#kernel.projections.consent
  }
  /** The trust-framework catalog: participants, data services, licence interpretations. */
  get catalog(): Index['catalog'] {
    return this.#kernel.projections.catalog
  }
  /** The iSHARE Authorization Register: data owners' delegation evidence. */
  get register(): Index['register'] {
    return this.#kernel.projections.register
  }
  /** Where third parties and customers reach this server; `serve` fills it in when not configured. */
  get publicUrl(): string {
    return this.#kernel.publicUrl
  }
  get revision(): number {
    return this.#kernel.revision
  }
  get staleness(): number {
    return this.#kernel.staleness
  }
  get fresh(): boolean {
    return this.#kernel.fresh
  }
  get catchingUp(): boolean {
    return this.#kernel.catchingUp
  }
  now(): number {
    return this.#kernel.now()
  }
  catchUp(): Promise<number> {
    return this.#kernel.catchUp()
  }
  atLeast(revision: number): Promise<void> {
    return this.#kernel.atLeast(revision)
  }
  audit(entry: Omit<AuditEntry, 'at'>): void {
    this.#kernel.audit(entry)
  }
  flush(): Promise<void> {
    return this.#kernel.flush()
  }
  /** The audit records made so far, committed; what a decision awaits before its answer (see Kernel). */
  flushAudit(): Promise<void> {
    return this.#kernel.flushAudit()
  }
  verifyAudit(): Promise<AuditVerification> {
    return this.#kernel.verifyAudit()
  }
  /** Removes the audit records older than `days`; the chain is verified from the checkpoint afterwards. */
  async pruneAudit(days: number) {
    const now = () => this.#kernel.now()
    const before = auditCutoff(now(), days)
    const outcome = await pruneAuditLog(this.#kernel.store, before, now)
    if (outcome.pruned > 0)
      this.audit({
        actor: 'system',
        action: 'audit.prune',
        resource: 'audit_log',
        outcome: 'ok',
        reason: `${outcome.pruned} record(s) written before ${before} removed; the chain continues from record ${outcome.checkpoint?.seq}`,
      })
    return { ...outcome, before }
  }
  /** Counts a self-registration step (a code asked for or tried) before it is checked; Throttled past the limits. */
  admitRegistration(accountNumber: string, address: string | undefined): Promise<ThrottleRule[]> {
    const rules = registrationRules(this.#throttle.limits, accountNumber, address)
    return this.#throttle.admit(rules, 'anonymous', 'customer.register', accountNumber)
  }
  /** A self-registration step that succeeded: its counts cleared or taken back. */
  settleRegistration(counted: ThrottleRule[]): Promise<void> {
    return this.#throttle.settle(counted)
  }
  writeFor(userId: string, action: string, resource: string, plan: Planner): Promise<ChangeResult> {
    return this.#kernel.commit(() => userId, action, resource, plan)
  }
  close(): Promise<void> {
    return this.#kernel.close()
  }

  // --- access (entitlements/access.ts) -----------------------------------------------------------------

  change(...args: Parameters<Access['change']>): Promise<ChangeResult> {
    return this.#access.change(...args)
  }
  writeAs(token: string | null | undefined, action: string, resource: string, plan: Planner) {
    return this.#access.writeAs(token, action, resource, plan)
  }
  changeAs(...args: Parameters<Access['changeAs']>): Promise<ChangeResult> {
    return this.#access.changeAs(...args)
  }
  checkAccess(token: string, permission: string, resourceId: string): AccessCheck {
    return this.#access.checkAccess(token, permission, resourceId)
  }
  checkAccessAny(token: string, permissions: readonly string[], resourceId: string): AccessCheck {
    return this.#access.checkAccessAny(token, permissions, resourceId)
  }
  /**
   * Many access questions with one token, answered in order and each audited (see Access.checkAccessBatch);
   * more than maxBatchChecks is TooLarge. The caller flushes once, after all of them.
   */
  checkAccessBatch(token: string | null | undefined, questions: readonly AccessQuestion[]): AccessCheck[] {
    const limit = this.config.maxBatchChecks
    if (questions.length > limit)
      throw tooLarge(
        `${questions.length} questions in one batch check; at most ${limit} (the limit maxBatchChecks, --max-batch-checks)`,
      )
    return this.#access.checkAccessBatch(token, questions)
  }
  assertAccess(token: string | null | undefined, permission: string, resourceId: string): AccessCheck {
    return this.#access.assertAccess(token, permission, resourceId)
  }
  assertAccessAny(token: string | null | undefined, permissions: readonly string[], resourceId: string) {
    return this.#access.assertAccessAny(token, permissions, resourceId)
  }
  authenticate(token: string | null | undefined, action: string, resource: string): string {
    return this.#access.authenticate(token, action, resource)
  }
  authorizeController(token: string | undefined, action: string): string {
    return this.#access.authorizeController(token, action)
  }
  authorizeAdminAction(token: string | undefined, action: string): string {
    return this.#access.authorizeAdminAction(token, action)
  }
  identify(token: string | undefined, action: string, resource: string): string {
    return this.#access.identify(token, action, resource)
  }

  // --- sessions (entitlements/sessions.ts) -------------------------------------------------------------

  login(userId: string, password: string, context: CallContext = {}): Promise<LoginResult> {
    return this.#sessions.login(userId, password, context)
  }
  verifyPassword(userId: string, password: string, context: CallContext = {}): Promise<void> {
    return this.#sessions.verifyPassword(userId, password, context)
  }
  /** Relayed by the in-process House Mate controller unless `context.controller` names another. */
  loginVoicePrint(voicePrint: string, context: VoicePrintContext = {}): Promise<LoginResult> {
    return this.#sessions.loginVoicePrint(voicePrint, {
      ...context,
      controller: context.controller ?? CONTROLLER_USER,
    })
  }
  serviceSession(userId: string, name: string): Promise<LoginResult> {
    return this.#sessions.serviceSession(userId, name)
  }
  partySession(...args: Parameters<Sessions['partySession']>): Promise<LoginResult> {
    return this.#sessions.partySession(...args)
  }
  logout(token: string): Promise<ChangeResult> {
    return this.#sessions.logout(token)
  }
  whoHolds(token: string) {
    return this.#sessions.whoHolds(token)
  }
  purgeTokens(): Promise<number> {
    return this.#sessions.purgeTokens()
  }

  // --- administration (entitlements/administration.ts) -------------------------------------------------

  definePermission(...args: Parameters<Administration['definePermission']>) {
    return this.#admin.definePermission(...args)
  }
  deletePermission(...args: Parameters<Administration['deletePermission']>) {
    return this.#admin.deletePermission(...args)
  }
  defineRole(...args: Parameters<Administration['defineRole']>) {
    return this.#admin.defineRole(...args)
  }
  deleteRole(...args: Parameters<Administration['deleteRole']>) {
    return this.#admin.deleteRole(...args)
  }
  addEntitlementToRole(...args: Parameters<Administration['addEntitlementToRole']>) {
    return this.#admin.addEntitlementToRole(...args)
  }
  removeEntitlementFromRole(...args: Parameters<Administration['removeEntitlementFromRole']>) {
    return this.#admin.removeEntitlementFromRole(...args)
  }
  createUser(...args: Parameters<Administration['createUser']>) {
    return this.#admin.createUser(...args)
  }
  deleteUser(...args: Parameters<Administration['deleteUser']>) {
    return this.#admin.deleteUser(...args)
  }
  addUserCredential(...args: Parameters<Administration['addUserCredential']>) {
    return this.#admin.addUserCredential(...args)
  }
  endSessions(...args: Parameters<Administration['endSessions']>) {
    return this.#admin.endSessions(...args)
  }
  removeUserCredential(...args: Parameters<Administration['removeUserCredential']>) {
    return this.#admin.removeUserCredential(...args)
  }
  grantToUser(...args: Parameters<Administration['grantToUser']>) {
    return this.#admin.grantToUser(...args)
  }
  grantResourceRoleToUser(...args: Parameters<Administration['grantResourceRoleToUser']>) {
    return this.#admin.grantResourceRoleToUser(...args)
  }
  revokeFromUser(...args: Parameters<Administration['revokeFromUser']>) {
    return this.#admin.revokeFromUser(...args)
  }
  createResource(...args: Parameters<Administration['createResource']>) {
    return this.#admin.createResource(...args)
  }
  deleteResource(...args: Parameters<Administration['deleteResource']>) {
    return this.#admin.deleteResource(...args)
  }
  createResourceRole(...args: Parameters<Administration['createResourceRole']>) {
    return this.#admin.createResourceRole(...args)
  }
  deleteResourceRole(...args: Parameters<Administration['deleteResourceRole']>) {
    return this.#admin.deleteResourceRole(...args)
  }
  unlockUser(...args: Parameters<Administration['unlockUser']>) {
    return this.#admin.unlockUser(...args)
  }
  ensureAdmin() {
    return this.#admin.ensureAdmin()
  }
}

export const openCustodian = (options?: CustodianOptions) => Custodian.open(options)

// Operations (kernel/operations.ts) run against this facade; the kernel names it without importing it.
declare module './kernel/operations.js' {
  interface OperationHost extends Custodian {}
}
