import { generateKeyPairSync, timingSafeEqual } from 'node:crypto'
import Provider, { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider'
import { parseEspiScope, scopeWithin } from '../consent/espi-scope.js'
import { REGISTRATION_PATH } from '../consent/registration-service.js'
import { authorizationAccess } from '../consent/rules.js'
import { hashTokenSecret } from '../entitlements/tokens.js'
import { InvalidAccessTokenError } from '../errors.js'
import type { BearerGrant } from '../greenbutton/espi-routes.js'
import { ESPI_RESOURCE_PATH } from '../greenbutton/namespaces.js'
import type { Node } from '../kernel/node.js'
import { StoreAdapter, ThirdPartyClientAdapter } from './adapter.js'

/** Where oidc-provider is mounted, under the server's public URL. */
export const OAUTH_MOUNT = '/oauth'
const ACCESS_TOKEN_TTL_S = 3_600

type ClientWithScope = { clientId: string; clientName?: string; espi_scope?: string }

/**
 * The ESPI scopes of this request, each parsed and within the third party's allowance; refused with
 * `invalid_scope` naming the bad part. The authorization endpoint must ask for one; client_credentials
 * without `scope` gets the third party's registered allowance (RFC 6749 §3.3's default, said in the token
 * response); a code exchange or a refresh without `scope` keeps what was granted.
 */
function checkedScopes(ctx: KoaContextWithOIDC, client: ClientWithScope): string[] {
  const params = (ctx.oidc.params ?? {}) as { scope?: string; grant_type?: string }
  const allowance = parseEspiScope(client.espi_scope ?? '')
  if (params.scope === undefined && params.grant_type === 'client_credentials') {
    if (!allowance.ok)
      throw new errors.InvalidScope(`third party ${client.clientId} has no valid scope allowance`, '')
    // oidc-provider gives the token the scope parameter's scopes: the default goes there.
    params.scope = client.espi_scope
  }
  const requested = params.scope
  if (requested === undefined) {
    if (ctx.oidc.route === 'authorization') {
      throw new errors.InvalidScope(
        'scope is required: one ESPI scope, for example FB=4_5_15;IntervalDuration=3600',
        '',
      )
    }
    return []
  }
  if (!allowance.ok)
    throw new errors.InvalidScope(`third party ${client.clientId} has no valid scope allowance`, requested)
  const scopes = requested.split(' ').filter(Boolean)
  for (const text of scopes) {
    const parsed = parseEspiScope(text)
    if (!parsed.ok) {
      throw new errors.InvalidScope(
        `malformed ESPI scope "${text}": ${parsed.part ? `${parsed.part}: ` : ''}${parsed.reason}`,
        text,
      )
    }
    const within = scopeWithin(parsed.scope, allowance.scope)
    if (!within.ok) {
      throw new errors.InvalidScope(
        `scope "${text}" is beyond what ${client.clientName ?? client.clientId} may ask for: ${within.reason}`,
        text,
      )
    }
  }
  return scopes
}

/** The grant (= ESPI Authorization id) behind a code exchange or a refresh, if this is one. */
function grantOf(ctx: KoaContextWithOIDC): string | undefined {
  const entities = ctx.oidc.entities as {
    AuthorizationCode?: { grantId?: string }
    RefreshToken?: { grantId?: string }
  }
  return entities.RefreshToken?.grantId ?? entities.AuthorizationCode?.grantId
}

/**
 * oidc-provider configured as the ESPI authorization server: OAuth 2.0 only (no OpenID Connect), code flow
 * with PKCE required, refresh tokens rotated, client_credentials for a third party's own access, revocation,
 * introspection, metadata. Clients are the registered third parties; each consent creates an ESPI
 * Authorization whose id is the grant id, and tokens never outlive it.
 */
export async function createProvider(custodian: Node, publicUrl: string): Promise<Provider> {
  const issuer = `${publicUrl}${OAUTH_MOUNT}`
  const resource = `${publicUrl}${ESPI_RESOURCE_PATH}`
  const consent = () => custodian.consent
  // Opaque tokens need no signing key; oidc-provider still wants one, so an ephemeral EC key will do.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jwk = { ...privateKey.export({ format: 'jwk' }), use: 'sig', alg: 'ES256' }

  const authorizationOf = (grantId: string | undefined, clientId: string) => {
    if (!grantId) return undefined
    const decision = authorizationAccess(consent(), grantId, clientId, custodian.now())
    if (!decision.allowed) throw new errors.InvalidGrant(decision.reason)
    return consent().authorizations.get(grantId)
  }

  const configuration: Configuration = {
    adapter: (model: string) =>
      model === 'Client'
        ? new ThirdPartyClientAdapter(consent)
        : new StoreAdapter(model, custodian.store.oidc),
    jwks: { keys: [jwk as never] },
    cookies: { keys: [await custodian.store.sharedSecret('oauth-cookies')] },
    findAccount: async (_ctx, sub) =>
      consent().customers.has(sub) ? { accountId: sub, claims: async () => ({ sub }) } : undefined,
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    scopes: [],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
    },
    extraClientMetadata: { properties: ['espi_scope'] },
    pkce: { required: () => true },
    // Runs before oidc-provider consumes the refresh token: a refresh refused because the Authorization has
    // ended must not burn the token, or an extension afterwards could not revive it.
    rotateRefreshToken: async (ctx) => {
      authorizationOf(grantOf(ctx), ctx.oidc.client?.clientId ?? '')
      return true
    },
    // ESPI tokens outlive the customer's browser session.
    expiresWithSession: async () => false,
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.kind === 'AuthorizationCode',
    // Each consent is a new Authorization: never reuse a grant found in the browser session.
    loadExistingGrant: async (ctx) => {
      const grantId = (ctx.oidc.result as { consent?: { grantId?: string } } | undefined)?.consent?.grantId
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined
    },
    extraTokenClaims: async (_ctx, token) => {
      const grantId = (token as { grantId?: string }).grantId
      return grantId ? { authorization_id: grantId } : undefined
    },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL_S,
      AuthorizationCode: 60,
      ClientCredentials: ACCESS_TOKEN_TTL_S,
      RefreshToken: 366 * 86_400,
      Grant: 10 * 366 * 86_400,
      Interaction: 900,
      Session: 3_600,
      IdToken: 3_600,
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      introspection: {
        enabled: true,
        // A third party may introspect its own tokens; a token whose client is suspended, or whose
        // Authorization has ended, is reported inactive.
        allowedPolicy: async (ctx, client, token) => {
          if (token.clientId !== client.clientId) return false
          if (!(await ctx.oidc.provider.Client.find(token.clientId as string))) return false
          const grantId = (token as { grantId?: string }).grantId
          return !grantId || authorizationAccess(consent(), grantId, client.clientId, custodian.now()).allowed
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator, client) => {
          if (indicator !== resource) throw new errors.InvalidTarget(`the only resource here is ${resource}`)
          const party = client as unknown as ClientWithScope
          const scopes = checkedScopes(ctx, party)
          // A code exchange or a refresh is refused once its Authorization has ended, and the token lives
          // no longer than the Authorization does.
          const authorization =
            ctx.oidc.route === 'token' ? authorizationOf(grantOf(ctx), client.clientId) : undefined
          const left = authorization
            ? Math.floor((Date.parse(authorization.period_end) - custodian.now()) / 1000)
            : ACCESS_TOKEN_TTL_S
          const entities = ctx.oidc.entities as {
            AuthorizationCode?: { scope?: string }
            RefreshToken?: { scope?: string }
          }
          const carried = [entities.AuthorizationCode?.scope, entities.RefreshToken?.scope].flatMap((s) =>
            s ? s.split(' ') : [],
          )
          return {
            scope: [...new Set([...scopes, ...carried])].join(' '),
            audience: resource,
            accessTokenFormat: 'opaque',
            accessTokenTTL: Math.max(1, Math.min(ACCESS_TOKEN_TTL_S, left)),
          }
        },
      },
    },
    interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html'
      const esc = (text: unknown) => String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
      ctx.body = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Authorization error</title><main><h1>${esc(out.error)}</h1><p>${esc(out.error_description)}</p></main></html>`
    },
  }

  const provider = new Provider(issuer, configuration)
  // The public URL, not the socket, says whether the customer's browser is on TLS (a TLS-terminating proxy
  // in front): routes.ts sets X-Forwarded-Proto from it, so that Koa marks every cookie Secure.
  provider.proxy = true
  // Client secrets are kept as SHA-256 hashes (see consent/consent-service.ts): compare in constant time.
  provider.Client.prototype.compareClientSecret = async function compareClientSecret(
    this: { clientSecret?: string },
    presented: unknown,
  ) {
    if (typeof presented !== 'string' || !this.clientSecret) return false
    const given = Buffer.from(hashTokenSecret(presented), 'hex')
    const stored = Buffer.from(this.clientSecret, 'hex')
    return given.length === stored.length && timingSafeEqual(given, stored)
  }
  // The metadata describes an OAuth server for ESPI, not an OpenID provider.
  provider.use(async (ctx, next) => {
    await next()
    if (ctx.oidc?.route === 'discovery' && ctx.status === 200) {
      const body = ctx.body as Record<string, unknown>
      for (const key of [
        'claims_supported',
        'claim_types_supported',
        'claims_parameter_supported',
        'subject_types_supported',
        'id_token_signing_alg_values_supported',
      ]) {
        delete body[key]
      }
      body.scopes_supported = []
      // Third parties register themselves there (oauth/registration-routes.ts), not through oidc-provider.
      body.registration_endpoint = `${publicUrl}${REGISTRATION_PATH}`
    }
  })
  // invalid_grant hides its reason from the client; the audit log keeps it.
  provider.on('grant.error', (ctx, error: { error?: string; error_detail?: string; message?: string }) => {
    custodian.audit({
      actor: ctx.oidc?.client?.clientId ?? 'anonymous',
      action: 'oauth.grant',
      resource: String(ctx.oidc?.params?.grant_type ?? '-'),
      outcome: error.error ?? 'error',
      reason: error.error_detail ?? error.message ?? '',
    })
  })
  provider.on('grant.revoked', (ctx, grantId: string) => {
    custodian.audit({
      actor: ctx.oidc?.client?.clientId ?? 'system',
      action: 'oauth.grant_revoked',
      resource: grantId,
      outcome: 'ok',
      reason: 'tokens of the grant revoked',
    })
  })
  provider.on('server_error', (_ctx, error) =>
    custodian.log.error({ err: error }, 'authorization server error'),
  )
  return provider
}

/**
 * One node's authorization server: oidc-provider, made on first use (the issuer is the public URL, which
 * `serve` knows only once it listens), and who its access tokens speak for, for the ESPI resources.
 */
export function authorizationServer(custodian: Node) {
  let made: Promise<Provider> | undefined
  const provider = () => {
    made ??= createProvider(custodian, custodian.publicUrl)
    return made
  }
  // A customer's grant (its Authorization) or client_credentials (the third party itself). Refused once
  // expired or once the Authorization has ended.
  const bearerGrant: BearerGrant = async (request) => {
    const value = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1]
    const oidc = await provider()
    const token = value
      ? ((await oidc.AccessToken.find(value)) ?? (await oidc.ClientCredentials.find(value)))
      : undefined
    const clientId = token?.clientId
    const grantId = (token as { grantId?: string } | undefined)?.grantId
    const live =
      token &&
      !token.isExpired &&
      clientId &&
      (await oidc.Client.find(clientId)) &&
      (!grantId || authorizationAccess(custodian.consent, grantId, clientId, custodian.now()).allowed)
    if (!live) {
      throw new InvalidAccessTokenError(
        'the access token is missing, unknown, expired, or its authorization has ended',
        {
          oauthError: 'invalid_token',
        },
      )
    }
    return { clientId: clientId as string, grantId }
  }
  return { provider, bearerGrant }
}

export type AuthorizationServer = ReturnType<typeof authorizationServer>
