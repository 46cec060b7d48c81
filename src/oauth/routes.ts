import * as querystring from 'node:querystring'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { endOfDay } from '../consent/changes.js'
import { type ConsentService, opaqueId } from '../consent/consent-service.js'
import { customerLocale, formatDay } from '../consent/end-of-access.js'
import { completeScope, parseEspiScope } from '../consent/espi-scope.js'
import { capitalize, describeScopeText, meterLabel } from '../consent/scope-wording.js'
import type { Custodian } from '../custodian.js'
import { isCustodianError } from '../errors.js'
import { documented } from '../openapi/route-docs.js'
import { accountSession, sessionCookie, signedInAs } from '../web/account-session.js'
import { brandedHeaders, brandingOf } from '../web/branding.js'
import { formTokens } from '../web/form-tokens.js'
import { html, type Markup, page } from '../web/html.js'
import { cookieValue, openPreApproval, PREAPPROVAL_COOKIE, type PreApproval } from '../web/preapproval.js'
import { selfRegistrationRoutes } from '../web/self-registration.js'
import { oauthRouteDocs, providerEndpoints } from './oauth-docs.js'
import { type AuthorizationServer, OAUTH_MOUNT } from './provider.js'

type Form = Record<string, string | string[] | undefined>

const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? ''
const all = (value: string | string[] | undefined) => (Array.isArray(value) ? value : value ? [value] : [])

/**
 * The authorization server's routes: oidc-provider under /oauth (it reads its own request bodies), the RFC
 * 8414 metadata at the root, and the customer's login and consent pages of the interaction.
 */
export const oauthRoutes: FastifyPluginAsync<{
  custodian: Custodian
  consent: ConsentService
  server: AuthorizationServer
}> = async (app, { custodian, consent, server: { provider } }) => {
  const csrfKey = await custodian.store.sharedSecret('csrf')
  const { csrfFor, csrfOk } = formTokens(csrfKey, 'interaction')

  const handOver =
    (rewrite: (url: string) => string) => async (request: FastifyRequest, reply: FastifyReply) => {
      const callback = (await provider()).callback()
      reply.hijack()
      const raw = request.raw as typeof request.raw & { originalUrl?: string }
      const url = rewrite(raw.url ?? '/')
      // oidc-provider derives its mount path from originalUrl minus url, as under Express.
      raw.originalUrl = `${OAUTH_MOUNT}${url}`
      raw.url = url
      // oidc-provider trusts these (provider.proxy): they come from the public URL, never from the client.
      const publicUrl = new URL(custodian.publicUrl)
      raw.headers['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1)
      raw.headers['x-forwarded-host'] = publicUrl.host
      raw.headers['x-forwarded-for'] = request.ip
      await callback(raw, reply.raw)
    }
  await app.register(async (scope) => {
    // Unauthenticated at this layer: OAuth authenticates clients and customers itself.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null))
    const underMount = handOver((url) => url.slice(OAUTH_MOUNT.length))
    // Each endpoint the provider serves, documented; the catch-all forwards the same way whatever else it
    // answers. OpenAPI cannot describe a wildcard, so the catch-all is hidden and the endpoints stand for it.
    for (const { method, path, schema } of providerEndpoints)
      scope.route({ method, url: `${OAUTH_MOUNT}${path}`, ...documented(schema), handler: underMount })
    scope.all(`${OAUTH_MOUNT}/*`, { schema: { hide: true } }, underMount)
    scope.get(
      `/.well-known/oauth-authorization-server${OAUTH_MOUNT}`,
      oauthRouteDocs.rootMetadata,
      handOver(() => '/.well-known/oauth-authorization-server'),
    )
  })

  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => done(null, querystring.parse(body as string)),
    )
    const branding = brandingOf(custodian.config)
    const headers = brandedHeaders(branding)
    /** Every page names the utility; the consent page also names the customer signed in (`accountId`). */
    const send = (reply: FastifyReply, title: string, body: Markup, status = 200, accountId?: string) => {
      const customer = accountId ? custodian.consent.customers.get(accountId) : undefined
      return reply
        .code(status)
        .headers(headers)
        .send(
          page(title, body, {
            utility: branding,
            signedIn: customer ? signedInAs({ userId: customer.user_id, customer }) : undefined,
          }),
        )
    }
    const partyOf = (clientId: string) => custodian.consent.thirdParties.get(clientId)
    /**
     * The customer is who they said: the interaction goes on (to consent) as `accountId`. With a new
     * account session (`session`, from a password just checked) the account pages need no second sign-in.
     */
    const signedIn = async (
      request: FastifyRequest,
      reply: FastifyReply,
      accountId: string,
      session?: { token: string; idleTimeoutSeconds: number },
    ) => {
      if (session)
        reply.raw.setHeader('set-cookie', sessionCookie(custodian, session.token, session.idleTimeoutSeconds))
      reply.hijack()
      await (await provider()).interactionFinished(
        request.raw,
        reply.raw,
        { login: { accountId } },
        { mergeWithLastSubmission: false },
      )
    }

    const loginPage = (uid: string, clientId: string, error?: string) =>
      html`<p>${partyOf(clientId)?.name ?? clientId} asks to receive your energy data. Sign in to your ${branding.name} account to decide.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<input type="hidden" name="csrf" value="${csrfFor(uid)}">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button>
</form>
<p>No online account yet? <a href="/interaction/${uid}/register">Create one with your account number</a>.</p>
<form method="post" action="/interaction/${uid}/consent"><input type="hidden" name="csrf" value="${csrfFor(uid)}"><button type="submit" name="decision" value="deny">Cancel</button></form>`

    /**
     * The scope the Authorization will store: what was asked, completed from the third party's allowance
     * (consent-service grants exactly this), so the customer agrees to every term that will be recorded.
     */
    const storedScope = (clientId: string, asked: string) => {
      const requested = parseEspiScope(asked)
      const allowance = parseEspiScope(partyOf(clientId)?.scope ?? '')
      return requested.ok && allowance.ok ? completeScope(requested.scope, allowance.scope).text : asked
    }

    const consentPage = (
      uid: string,
      clientId: string,
      accountId: string,
      scopes: string[],
      locale: string,
      error?: string,
      chosen?: PreApproval,
    ) => {
      const party = partyOf(clientId)
      const points = custodian.consent.usagePointsOf(accountId)
      const preset = chosen?.clientId === clientId && chosen.customerId === accountId ? chosen : undefined
      const today = new Date(custodian.now()).toISOString().slice(0, 10)
      const defaultEnd =
        preset?.periodEnd ?? new Date(custodian.now() + 365 * 86_400_000).toISOString().slice(0, 10)
      const stored = storedScope(clientId, scopes[0] ?? '')
      const wording = describeScopeText(stored)
      return html`<p><strong>${party?.name ?? clientId}</strong> (${party?.standing === 'active' ? 'in good standing' : (party?.standing ?? 'unknown')}) asks to receive energy data from ${branding.name}.</p>
${party?.description ? html`<p>${party.description}</p>` : ''}
<h2>What it will receive</h2>
<ul>${wording.data.map((d) => html`<li>${capitalize(d)}</li>`)}</ul>
<p>${capitalize(wording.history)}, ${wording.frequency}.</p>
<details><summary>The technical terms, as the third party will hold them</summary><p><code>${stored}</code></p></details>
<p>It will not receive your name, email, username or account number.</p>
${preset ? html`<p role="status">These are the choices you made on your utility's 3rd Party Access page: confirm them to finish.</p>` : ''}
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/consent">
<input type="hidden" name="csrf" value="${csrfFor(uid)}">
<fieldset><legend>Which meters may it see?</legend>
${points.length === 0 ? html`<p>You have no meters to share.</p>` : points.map((p) => html`<div><input type="checkbox" id="up-${p.id}" name="usage_point" value="${p.id}"${preset && !preset.usagePointIds.includes(p.id) ? '' : html` checked`}><label for="up-${p.id}" style="display:inline">${meterLabel(p)}</label></div>`)}
</fieldset>
<label for="period_end">Access ends after</label><input type="date" id="period_end" name="period_end" value="${defaultEnd}" min="${today}" required aria-describedby="period_end_help">
<p id="period_end_help">Data up to and including this day is shared, and nothing after (for example: access ends after ${formatDay(defaultEnd, locale)}). You can end access sooner at any time.</p>
<button type="submit" name="decision" value="approve" class="primary">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`
    }

    await selfRegistrationRoutes(scope, {
      custodian,
      provider,
      codeKey: await custodian.store.sharedSecret('registration-codes'),
      csrfFor,
      csrfOk,
      send,
      signedIn,
    })

    scope.get('/interaction/:uid', oauthRouteDocs.interaction, async (request, reply) => {
      const details = await (await provider()).interactionDetails(request.raw, reply.raw)
      const clientId = String(details.params.client_id)
      if (details.prompt.name === 'login') {
        // Signed in on the account pages already: one sign-in serves both, unless the third party asked
        // for a fresh one (prompt=login).
        const account = accountSession(custodian, request)
        const fresh = String(details.params.prompt ?? '')
          .split(' ')
          .includes('login')
        if (account?.customer && !fresh) return signedIn(request, reply, account.customer.id)
        return send(reply, 'Sign in', loginPage(details.uid, clientId))
      }
      const missing =
        (details.prompt.details as { missingResourceScopes?: Record<string, string[]> })
          .missingResourceScopes ?? {}
      const accountId = details.session?.accountId ?? ''
      return send(
        reply,
        'Share your energy data?',
        consentPage(
          details.uid,
          clientId,
          accountId,
          Object.values(missing).flat(),
          customerLocale(request.headers['accept-language']),
          undefined,
          openPreApproval(csrfKey, cookieValue(request.headers.cookie, PREAPPROVAL_COOKIE), custodian.now()),
        ),
        200,
        accountId,
      )
    })

    scope.post('/interaction/:uid/login', oauthRouteDocs.login, async (request, reply) => {
      const oidc = await provider()
      const details = await oidc.interactionDetails(request.raw, reply.raw)
      const form = (request.body ?? {}) as Form
      const clientId = String(details.params.client_id)
      if (!csrfOk(details.uid, first(form.csrf)))
        return send(
          reply,
          'Sign in',
          loginPage(details.uid, clientId, 'The form expired: please sign in again.'),
          403,
        )
      const username = first(form.username)
      let login: Awaited<ReturnType<typeof custodian.login>>
      try {
        login = await custodian.login(username, first(form.password), { address: request.ip })
      } catch (error) {
        if (!isCustodianError(error)) throw error
        return send(
          reply,
          'Sign in',
          loginPage(details.uid, clientId, 'Wrong username or password.'),
          error.code === 'Throttled' ? 429 : 401,
        )
      }
      const customer = custodian.consent.customerOfUser(login.userId)
      if (!customer) {
        await custodian.logout(login.token)
        return send(
          reply,
          'Sign in',
          loginPage(details.uid, clientId, 'This account is not a customer account.'),
          403,
        )
      }
      await signedIn(request, reply, customer.id, login)
    })

    scope.post('/interaction/:uid/consent', oauthRouteDocs.consent, async (request, reply) => {
      const oidc = await provider()
      const details = await oidc.interactionDetails(request.raw, reply.raw)
      const form = (request.body ?? {}) as Form
      const clientId = String(details.params.client_id)
      const accountId = details.session?.accountId ?? ''
      const missing =
        (details.prompt.details as { missingResourceScopes?: Record<string, string[]> })
          .missingResourceScopes ?? {}
      const scopes = Object.values(missing).flat()
      const locale = customerLocale(request.headers['accept-language'])
      const again = (error: string, status: number) =>
        send(
          reply,
          'Share your energy data?',
          consentPage(details.uid, clientId, accountId, scopes, locale, error),
          status,
          accountId,
        )
      if (!csrfOk(details.uid, first(form.csrf))) return again('The form expired: please decide again.', 403)
      if (first(form.decision) !== 'approve' || details.prompt.name !== 'consent') {
        reply.hijack()
        await oidc.interactionFinished(
          request.raw,
          reply.raw,
          { error: 'access_denied', error_description: 'the customer did not authorize this request' },
          { mergeWithLastSubmission: false },
        )
        return
      }
      // The form names the last day of access; the Authorization stores the exclusive end after it.
      const lastDay = first(form.period_end)
      const periodEnd = /^\d{4}-\d{2}-\d{2}$/.test(lastDay)
        ? endOfDay(lastDay, new Date(custodian.now()).toISOString())
        : undefined
      if (!periodEnd) return again('Choose the last day of access.', 400)
      if (periodEnd <= new Date(custodian.now()).toISOString())
        return again('Choose today or a later day as the last day of access.', 400)
      if (all(form.usage_point).length === 0) return again('Choose at least one meter to share.', 400)
      const id = opaqueId('au')
      try {
        await consent.grantFromConsent(accountId, {
          id,
          clientId,
          usagePointIds: all(form.usage_point),
          scope: scopes[0] ?? '',
          periodEnd,
        })
      } catch (error) {
        if (!isCustodianError(error)) throw error
        return again(error.message, 400)
      }
      const grant = new oidc.Grant({ accountId, clientId, jti: id } as never)
      for (const [indicator, granted] of Object.entries(missing))
        grant.addResourceScope(indicator, granted.join(' '))
      const grantId = await grant.save()
      reply.hijack()
      await oidc.interactionFinished(
        request.raw,
        reply.raw,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      )
    })
  })
}
