import { hashTokenSecret, sameInConstantTime } from '../entitlements/tokens.js'
import { invalid, isCustodianError } from '../errors.js'
import type { Node } from '../kernel/node.js'
import type { OidcPayloadRow, ThirdPartyRow } from '../store/schema.js'
import { setStanding } from './changes.js'
import { newClientSecret as newToken, opaqueId } from './consent-service.js'
import { selfRegister, updateRegistration } from './registration-changes.js'
import { checkClientMetadata, clientMetadata, type RegistrationErrorCode } from './registration-metadata.js'

/**
 * Third parties registering themselves (RFC 7591) with an initial access token the utility issued, and
 * reading, changing and deleting their registration (RFC 7592) with the registration access token they got.
 *
 * Both tokens are 256 random bits kept only as their SHA-256, in the OAuth records table (oidc-provider's
 * own registration feature stays off: these models are Custodian's). A token is found by its hash, so no
 * comparison ever runs on the token itself: timing tells an attacker at most about a hash, not a preimage.
 */
const INITIAL_MODEL = 'rfc7591.InitialAccessToken'
const MANAGEMENT_MODEL = 'rfc7592.RegistrationAccessToken'
/** Under oidc-provider's mount (oauth/provider.ts), where its own registration endpoint would be. */
export const REGISTRATION_PATH = '/oauth/reg'
const DEFAULT_VALIDITY = '7d'
const MAX_VALIDITY_MS = 90 * 86_400_000

/** An RFC 7591/7592 refusal: the HTTP status and the error code the third party reads. */
export class RegistrationError extends Error {
  constructor(
    readonly status: 400 | 401 | 403,
    readonly error: RegistrationErrorCode | 'invalid_token' | 'invalid_request',
    description: string,
  ) {
    super(description)
  }
}

const unauthorized = (why: string) => new RegistrationError(401, 'invalid_token', why)

/** `12h` or `7d` in milliseconds, at most 90 days; else a clear refusal. */
export function validityMs(text: string = DEFAULT_VALIDITY): number {
  const match = /^([1-9]\d{0,4})([hd])$/.exec(text.trim())
  const ms = match ? Number(match[1]) * (match[2] === 'h' ? 3_600_000 : 86_400_000) : Number.NaN
  if (!(ms <= MAX_VALIDITY_MS))
    throw invalid(`valid_for "${text}" must be <n>h or <n>d, at most 90d (default ${DEFAULT_VALIDITY})`)
  return ms
}

export class RegistrationService {
  readonly #custodian: Node

  constructor(custodian: Node) {
    this.#custodian = custodian
  }

  #clientUri(clientId: string) {
    return `${this.#custodian.publicUrl}${REGISTRATION_PATH}/${clientId}`
  }

  #row(model: string, hash: string, expiresAt: number | null, clientId: string | null): OidcPayloadRow {
    return {
      model,
      id: hash,
      payload: JSON.stringify({ issued_at: new Date(this.#custodian.now()).toISOString() }),
      grant_id: null,
      uid: null,
      client_id: clientId,
      expires_at: expiresAt,
      consumed_at: null,
    }
  }

  /**
   * An initial access token for one registration, valid for `validFor` (`12h`, `7d`). The caller has
   * checked that `issuedBy` may issue it; the token is answered once, and `id` (the start of its hash)
   * names it in the audit log.
   */
  async issueInitialToken(issuedBy: string, validFor?: string) {
    const ms = validityMs(validFor)
    const token = newToken()
    const hash = hashTokenSecret(token)
    const expiresAt = this.#custodian.now() + ms
    await this.#custodian.store.oidc.upsert(this.#row(INITIAL_MODEL, hash, expiresAt, null))
    const id = `iat_${hash.slice(0, 12)}`
    const expires = new Date(expiresAt).toISOString()
    this.#custodian.audit({
      actor: issuedBy,
      action: 'third_party.registration_token',
      resource: id,
      outcome: 'ok',
      reason: `initial access token issued, valid until ${expires} for one registration`,
    })
    return {
      initial_access_token: token,
      id,
      expires_at: expires,
      registration_endpoint: `${this.#custodian.publicUrl}${REGISTRATION_PATH}`,
    }
  }

  /**
   * RFC 7591: registers the third party `body` describes, spending the initial access token. A request
   * refused for its metadata leaves the token unspent; two racing on one token, one wins.
   */
  async register(initialToken: string | undefined, body: unknown) {
    const store = this.#custodian.store.oidc
    const hash = hashTokenSecret(initialToken ?? '')
    const row = initialToken ? await store.find(INITIAL_MODEL, hash, this.#custodian.now()) : undefined
    if (!row || row.consumed_at !== null)
      throw unauthorized('the initial access token is missing, unknown, expired or already used')
    const checked = checkClientMetadata(body)
    if (!checked.ok) throw new RegistrationError(400, checked.error, checked.description)
    if (!(await store.consume(INITIAL_MODEL, hash, this.#custodian.now())))
      throw unauthorized('the initial access token was already used')
    const clientId = opaqueId('tp')
    const clientSecret = newToken()
    try {
      await this.#custodian.writeFor(clientId, 'third_party.register', clientId, (world, now) =>
        selfRegister(world, {
          clientId,
          secretHash: hashTokenSecret(clientSecret),
          registration: checked.registration,
          issuedBy: `initial access token iat_${hash.slice(0, 12)}`,
          now,
        }),
      )
    } catch (error) {
      // Not registered: the token may be used again.
      await store.upsert(row)
      throw refusal(error)
    }
    const managementToken = await this.#issueManagementToken(clientId)
    return {
      ...this.#metadata(clientId),
      client_secret: clientSecret,
      client_secret_expires_at: 0,
      registration_access_token: managementToken,
      registration_client_uri: this.#clientUri(clientId),
    }
  }

  async #issueManagementToken(clientId: string): Promise<string> {
    const token = newToken()
    await this.#custodian.store.oidc.upsert(
      this.#row(MANAGEMENT_MODEL, hashTokenSecret(token), null, clientId),
    )
    return token
  }

  #metadata(clientId: string) {
    const party = this.#custodian.consent.thirdParties.get(clientId)
    if (!party) throw unauthorized(`third party ${clientId} is not registered`)
    return clientMetadata(party)
  }

  /**
   * The registration `clientId` that `token` manages. Another client's token is refused as an unknown one
   * is; a token of a revoked third party (an administrator revoked it) is deleted.
   */
  async #managed(
    token: string | undefined,
    clientId: string,
  ): Promise<{ party: ThirdPartyRow; hash: string }> {
    const hash = hashTokenSecret(token ?? '')
    const row = token
      ? await this.#custodian.store.oidc.find(MANAGEMENT_MODEL, hash, this.#custodian.now())
      : undefined
    if (!row || row.client_id !== clientId)
      throw unauthorized('the registration access token is missing, unknown, or not for this client')
    const party = this.#custodian.consent.thirdParties.get(clientId)
    // Not yet known here is no reason to delete the token: this node may not have caught up with the write.
    if (party?.standing === 'revoked') await this.#custodian.store.oidc.destroy(MANAGEMENT_MODEL, hash)
    if (!party || party.standing === 'revoked')
      throw unauthorized(`third party ${clientId} is not registered (any more)`)
    return { party, hash }
  }

  /** RFC 7592 §2.1: the registration as it stands; the client secret is kept as a hash, so not in it. */
  async read(token: string | undefined, clientId: string) {
    await this.#managed(token, clientId)
    return {
      ...this.#metadata(clientId),
      registration_access_token: token as string,
      registration_client_uri: this.#clientUri(clientId),
    }
  }

  /**
   * RFC 7592 §2.2: the registration replaced by `body`, which names the client and, if it carries the
   * secret, the right one. The registration access token is rotated: the answer holds the new one.
   */
  async update(token: string | undefined, clientId: string, body: unknown) {
    const { party, hash } = await this.#managed(token, clientId)
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    const forbidden = [
      'registration_access_token',
      'registration_client_uri',
      'client_secret_expires_at',
      'client_id_issued_at',
    ].find((field) => b[field] !== undefined)
    if (forbidden)
      throw new RegistrationError(
        400,
        'invalid_request',
        `an update must not include ${forbidden} (RFC 7592 §2.2)`,
      )
    if (b.client_id !== clientId)
      throw new RegistrationError(400, 'invalid_request', `client_id must be given, and be ${clientId}`)
    if (
      b.client_secret !== undefined &&
      !sameInConstantTime(hashTokenSecret(String(b.client_secret)), party.secret_hash)
    )
      throw new RegistrationError(400, 'invalid_client_metadata', 'client_secret is not this client’s secret')
    const checked = checkClientMetadata(body)
    if (!checked.ok) throw new RegistrationError(400, checked.error, checked.description)
    try {
      await this.#custodian.writeFor(clientId, 'third_party.update', clientId, (world, now) =>
        updateRegistration(world, { clientId, registration: checked.registration, now }),
      )
    } catch (error) {
      throw refusal(error)
    }
    const rotated = await this.#issueManagementToken(clientId)
    await this.#custodian.store.oidc.destroy(MANAGEMENT_MODEL, hash)
    return {
      ...this.#metadata(clientId),
      registration_access_token: rotated,
      registration_client_uri: this.#clientUri(clientId),
    }
  }

  /**
   * RFC 7592 §2.3: the third party deregistered. It stays in the records (its Authorizations name it) as
   * revoked, so it is an unknown client from now on: its tokens, grants and this token no longer work.
   */
  async deregister(token: string | undefined, clientId: string): Promise<void> {
    const { hash } = await this.#managed(token, clientId)
    await this.#custodian.writeFor(clientId, 'third_party.deregister', clientId, (world, now) => {
      const plan = setStanding(world, clientId, 'revoked', now)
      return { ...plan, summary: `${plan.summary}: it deleted its registration (RFC 7592)` }
    })
    await this.#custodian.store.oidc.destroy(MANAGEMENT_MODEL, hash)
  }
}

/** A refusal of the planner (a name taken, a third party suspended) in RFC 7591's terms. */
function refusal(error: unknown): unknown {
  if (!isCustodianError(error)) return error
  if (error.code === 'Validation') return new RegistrationError(400, 'invalid_client_metadata', error.message)
  if (error.code === 'Conflict') return new RegistrationError(403, 'invalid_request', error.message)
  return error
}
