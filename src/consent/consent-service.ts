import { randomBytes } from 'node:crypto'
import { hashPassword } from '../entitlements/credentials.js'
import { hashTokenSecret } from '../entitlements/tokens.js'
import { invalid, notFound } from '../errors.js'
import type { Node } from '../kernel/node.js'
import type { Index } from '../kernel/projections.js'
import type { ChangeResult, Plan } from '../kernel/write-plan.js'
import type { AuthorizationRow, ServiceKind, Standing, ThirdPartyRow } from '../store/schema.js'
import * as plans from './changes.js'

/** Opaque, random ids for anything a third party may see. */
export const opaqueId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`

/** A client secret (or any bearer secret of a third party's): shown once, kept only as its hash. */
export const newClientSecret = () => randomBytes(32).toString('base64url')

export interface RegisteredThirdParty {
  clientId: string
  /** Shown once: only its hash is kept. */
  clientSecret: string
  revision: number
}

/** The ESPI Authorization resource as a third party sees it: opaque ids, no personal information. */
export function authorizationResource(row: AuthorizationRow, baseUrl: string, nowMs: number) {
  const start = Date.parse(row.period_start)
  const end = Date.parse(row.period_end)
  return {
    id: row.id,
    status: (row.status === 'active' && nowMs < end
      ? 'active'
      : row.status === 'terminated'
        ? 'terminated'
        : 'expired') as 'active' | 'terminated' | 'expired',
    // Whole seconds, so that start + duration is exactly the end.
    authorizedPeriod: {
      start: Math.floor(start / 1000),
      duration: Math.floor(end / 1000) - Math.floor(start / 1000),
    },
    scope: row.scope,
    resourceURI: `${baseUrl}/espi/1_1/resource/Batch/Subscription/${row.subscription_id}`,
    authorizationURI: `${baseUrl}/espi/1_1/resource/Authorization/${row.id}`,
    updated: row.updated_at,
  }
}

/**
 * ESPI consent at the edge. The utility's administrators register customers, usage points and third
 * parties; customers grant, extend and terminate Authorizations with their own token, and only their own.
 */
export class ConsentService {
  readonly #custodian: Node

  constructor(custodian: Node) {
    this.#custodian = custodian
  }

  get model() {
    return this.#custodian.consent
  }

  #now(): string {
    return new Date(this.#custodian.now()).toISOString()
  }

  async createCustomer(
    token: string | undefined,
    input: { username: string; name: string; email: string; accountNumber: string; password?: string },
  ): Promise<ChangeResult> {
    const { password } = input
    if (password !== undefined && (password.length < 8 || password.length > 1024))
      throw invalid('a customer password must be 8 to 1024 characters')
    // Without a password the customer has no online account yet: self-registration makes it (web/).
    const passwordHash = password === undefined ? undefined : await hashPassword(password)
    const id = opaqueId('rc')
    return this.#custodian.change(token, 'customer.create', input.username, (world) =>
      plans.createCustomer(world, { ...input, id, passwordHash, now: this.#now() }),
    )
  }

  createUsagePoint(
    token: string | undefined,
    input: { customer: string; description: string; kind: ServiceKind; id?: string },
  ): Promise<ChangeResult> {
    const id = input.id ?? opaqueId('up')
    return this.#custodian.change(token, 'usage_point.create', input.customer, (world) =>
      plans.createUsagePoint(world, { ...input, id, now: this.#now() }),
    )
  }

  async registerThirdParty(
    token: string | undefined,
    input: {
      clientId?: string
      name: string
      description: string
      redirectUris: string[]
      notifyUri: string
      scope: string
      /** ESPI thirdPartyScopeSelectionScreenURI, for grants that start at the utility. */
      scopeSelectionUri?: string
    },
  ): Promise<RegisteredThirdParty> {
    const clientId = input.clientId ?? opaqueId('tp')
    const clientSecret = newClientSecret()
    const result = await this.#custodian.change(token, 'third_party.register', clientId, (world) =>
      plans.registerThirdParty(world, {
        ...input,
        clientId,
        secretHash: hashTokenSecret(clientSecret),
        now: this.#now(),
      }),
    )
    return { clientId, clientSecret, revision: result.revision }
  }

  setStanding(token: string | undefined, clientId: string, standing: Standing): Promise<ChangeResult> {
    return this.#custodian.change(token, 'third_party.standing', clientId, (world) =>
      plans.setStanding(world, clientId, standing, this.#now()),
    )
  }

  /** A new client secret, answered once; the old one is refused from this change on. */
  async rotateSecret(token: string | undefined, clientId: string): Promise<RegisteredThirdParty> {
    const clientSecret = newClientSecret()
    const result = await this.#custodian.change(token, 'third_party.rotate_secret', clientId, (world) =>
      plans.rotateSecret(world, clientId, hashTokenSecret(clientSecret), this.#now()),
    )
    return { clientId, clientSecret, revision: result.revision }
  }

  /** Every retail customer with its usage points, for administrators. */
  customersWithUsagePoints(token: string | undefined) {
    this.#custodian.authorizeAdminAction(token, 'list customers')
    return [...this.model.customers.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => ({
        id: c.id,
        username: c.user_id,
        name: c.name,
        email: c.email,
        account_number: c.account_number,
        usage_points: this.model
          .usagePointsOf(c.id)
          .map((u) => ({ id: u.id, description: u.description, kind: u.service_kind })),
      }))
  }

  /** A customer authorizes a third party, with the customer's own token. */
  grant(
    token: string | null | undefined,
    input: { clientId: string; usagePointIds: string[]; scope: string; periodEnd: string },
  ): Promise<ChangeResult> {
    const id = opaqueId('au')
    const subscriptionId = opaqueId('su')
    return this.#custodian.writeAs(token, 'authorization.grant', input.clientId, (world, now, userId) => {
      const customer = plans.requireCustomerOf(world.consent, userId)
      return plans.grantAuthorization(world, {
        ...input,
        id,
        subscriptionId,
        customerId: customer.id,
        now,
        baseUrl: this.#custodian.publicUrl,
      })
    })
  }

  /**
   * The grant at the end of the OAuth consent: the customer was authenticated by the authorization server's
   * session. `id` becomes the OAuth grant's id too, which links tokens to this Authorization.
   */
  grantFromConsent(
    customerId: string,
    input: { id: string; clientId: string; usagePointIds: string[]; scope: string; periodEnd: string },
  ): Promise<ChangeResult> {
    const customer = this.model.customers.get(customerId)
    if (!customer) throw notFound(`customer ${customerId} does not exist`)
    const subscriptionId = opaqueId('su')
    return this.#custodian.writeFor(customer.user_id, 'authorization.grant', input.clientId, (world, now) =>
      plans.grantAuthorization(world, {
        ...input,
        subscriptionId,
        customerId,
        now,
        baseUrl: this.#custodian.publicUrl,
      }),
    )
  }

  extend(token: string | null | undefined, id: string, periodEnd: string): Promise<ChangeResult> {
    return this.#changeOwn(token, 'authorization.extend', id, (world, own) =>
      plans.extendAuthorization(world, { ...own, periodEnd }),
    )
  }

  terminate(token: string | null | undefined, id: string, date: string): Promise<ChangeResult> {
    return this.#changeOwn(token, 'authorization.terminate', id, (world, own) =>
      plans.terminateAuthorization(world, { ...own, date }),
    )
  }

  /** An administrator's termination, at once, with the reason the customer is emailed. */
  terminateAsAdministrator(token: string | undefined, id: string, reason: string): Promise<ChangeResult> {
    return this.#custodian.change(token, 'authorization.terminate_by_administrator', id, (world) =>
      plans.terminateAsAdministrator(world, {
        id,
        reason,
        now: this.#now(),
        baseUrl: this.#custodian.publicUrl,
      }),
    )
  }

  /** A customer's change to one of its own Authorizations: the customer is the token's user's. */
  #changeOwn(
    token: string | null | undefined,
    action: string,
    id: string,
    plan: (world: Index, own: { id: string; customerId: string; now: string; baseUrl: string }) => Plan,
  ): Promise<ChangeResult> {
    return this.#custodian.writeAs(token, action, id, (world, now, userId) =>
      plan(world, {
        id,
        customerId: plans.requireCustomerOf(world.consent, userId).id,
        now,
        baseUrl: this.#custodian.publicUrl,
      }),
    )
  }

  /** The customer's own authorizations, with the names a customer needs to recognise them. */
  customerAuthorizations(token: string | null | undefined, baseUrl: string) {
    const userId = this.#custodian.authenticate(token, 'authorization.list', 'own')
    const customer = plans.requireCustomerOf(this.model, userId)
    return this.model.authorizationsOf({ customerId: customer.id }).map((row) => ({
      ...authorizationResource(row, baseUrl, this.#custodian.now()),
      ends: row.period_end,
      thirdParty: {
        clientId: row.client_id,
        name: this.model.thirdParties.get(row.client_id)?.name ?? row.client_id,
      },
      usagePoints: (JSON.parse(row.usage_point_ids) as string[]).map((id) => ({
        id,
        description: this.model.usagePoints.get(id)?.description ?? '',
      })),
    }))
  }

  /** Every authorization, for administrators. */
  allAuthorizations(token: string | undefined, baseUrl: string) {
    this.#custodian.authorizeAdminAction(token, 'list authorizations')
    return [...this.model.authorizations.values()].map((row) => ({
      ...authorizationResource(row, baseUrl, this.#custodian.now()),
      ends: row.period_end,
      clientId: row.client_id,
      customerId: row.customer_id,
      usagePointIds: JSON.parse(row.usage_point_ids) as string[],
    }))
  }

  /** A third party's own authorizations, as ESPI resources. */
  thirdPartyAuthorizations(clientId: string, baseUrl: string) {
    if (!this.model.thirdParties.has(clientId)) throw notFound(`third party ${clientId} is not registered`)
    return this.model
      .authorizationsOf({ clientId })
      .map((row) => authorizationResource(row, baseUrl, this.#custodian.now()))
  }

  /** The public list customers check a third party against (seed: "list all authorized 3rd Parties"). */
  publicThirdParties(): Pick<ThirdPartyRow, 'client_id' | 'name' | 'description' | 'standing'>[] {
    return [...this.model.thirdParties.values()]
      .filter((p) => p.standing !== 'revoked')
      .map(({ client_id, name, description, standing }) => ({ client_id, name, description, standing }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }
}
