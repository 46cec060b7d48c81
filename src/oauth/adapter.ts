import { createHash } from 'node:crypto'
import { type Adapter, type AdapterPayload, errors, Provider } from 'oidc-provider'
import type { ConsentModel } from '../consent/consent-model.js'
import { REGISTERED_AUTH_METHOD, REGISTERED_GRANT_TYPES } from '../consent/registration-metadata.js'
import type { OidcPayloadStore } from '../store/oidc-payload-store.js'
import { isStoreUnavailable } from '../store/unavailable.js'

/**
 * oidc-provider's storage on Custodian's store (one table, SQLite or PostgreSQL). Models whose id is the
 * credential itself (tokens, codes) are keyed by a SHA-256 of it. Consumed rows are kept, so a reused code
 * is recognised as reused (and its grant revoked) rather than unknown; `consume` is atomic, so two
 * concurrent exchanges of one code cannot both win.
 */
const SECRET_IDS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'DeviceCode',
])
/** oidc-provider looks expired codes up to say "expired" rather than "not found": keep rows a little longer. */
const CLOCK_TOLERANCE_S = 15

/**
 * `work`, with a store that cannot be reached now (a database restart) told as OAuth's
 * `temporarily_unavailable` (RFC 6749 §4.1.2.1) and 503, not as a server error: the authorization endpoint
 * sends the third party back that error, so that it may ask again, rather than leave the customer on "oops!
 * something went wrong". The store's own error stays the cause, for the log; it is not shown.
 */
async function reachable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (!isStoreUnavailable(error)) throw error
    const unavailable = new errors.TemporarilyUnavailable(
      'the store cannot be reached just now; try again shortly',
      { cause: error },
    )
    unavailable.status = unavailable.statusCode = 503
    throw unavailable
  }
}

export class StoreAdapter implements Adapter {
  readonly #secret: boolean

  constructor(
    private readonly model: string,
    private readonly store: OidcPayloadStore,
  ) {
    this.#secret = SECRET_IDS.has(model)
  }

  #key(id: string): string {
    return this.#secret ? createHash('sha256').update(id).digest('base64url') : id
  }

  #out(
    row: { payload: string; consumed_at: number | null } | undefined,
    id: string | undefined,
  ): AdapterPayload | undefined {
    if (!row) return undefined
    const payload = JSON.parse(row.payload) as AdapterPayload
    if (this.#secret && id !== undefined) payload.jti = id
    if (row.consumed_at !== null) payload.consumed = Math.floor(row.consumed_at / 1000)
    return payload
  }

  upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const stored = this.#secret ? { ...payload, jti: undefined } : payload
    return reachable(() =>
      this.store.upsert({
        model: this.model,
        id: this.#key(id),
        payload: JSON.stringify(stored),
        grant_id: payload.grantId ?? null,
        uid: payload.uid ?? null,
        client_id: payload.clientId ?? null,
        expires_at:
          typeof expiresIn === 'number' ? Date.now() + (expiresIn + CLOCK_TOLERANCE_S) * 1000 : null,
        consumed_at: null,
      }),
    )
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return reachable(async () => this.#out(await this.store.find(this.model, this.#key(id), Date.now()), id))
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return reachable(async () =>
      this.#out(await this.store.findByUid(this.model, uid, Date.now()), undefined),
    )
  }

  async findByUserCode(): Promise<AdapterPayload | undefined> {
    return undefined // no device flow
  }

  consume(id: string): Promise<void> {
    return reachable(async () => {
      if (await this.store.consume(this.model, this.#key(id), Date.now())) return
      // Lost a race with a concurrent use: treat it as the reuse it is, as oidc-provider does when it sees
      // `consumed`, and revoke everything of the grant.
      const row = await this.store.find(this.model, this.#key(id), 0)
      if (row?.grant_id) {
        await this.store.revokeByGrantId(undefined, row.grant_id)
        const ctx = Provider.ctx
        ctx?.oidc?.provider.emit('grant.revoked', ctx, row.grant_id)
      }
      throw new errors.InvalidGrant(`${this.model} was already used`)
    })
  }

  destroy(id: string): Promise<void> {
    return reachable(() => this.store.destroy(this.model, this.#key(id)))
  }

  revokeByGrantId(grantId: string): Promise<void> {
    return reachable(() => this.store.revokeByGrantId(this.model, grantId))
  }
}

/**
 * Clients are the registered third parties, read from the replicated consent projection on every request,
 * so a registration or a suspension takes effect at once. A third party not in good standing is unknown.
 */
export class ThirdPartyClientAdapter implements Adapter {
  constructor(private readonly consent: () => ConsentModel) {}

  async find(clientId: string): Promise<AdapterPayload | undefined> {
    const party = this.consent().thirdParties.get(clientId)
    if (party?.standing !== 'active') return undefined
    return {
      client_id: party.client_id,
      // The hash, compared by the Client.compareClientSecret override in provider.ts.
      client_secret: party.secret_hash,
      client_name: party.name,
      redirect_uris: JSON.parse(party.redirect_uris) as string[],
      grant_types: [...REGISTERED_GRANT_TYPES],
      response_types: ['code'],
      token_endpoint_auth_method: REGISTERED_AUTH_METHOD,
      espi_scope: party.scope,
    }
  }

  async upsert(): Promise<void> {
    throw new Error(
      'third parties are registered through Custodian (oauth/registration-routes.ts), not oidc-provider',
    )
  }
  async findByUid(): Promise<undefined> {
    return undefined
  }
  async findByUserCode(): Promise<undefined> {
    return undefined
  }
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}
