import { createHmac, timingSafeEqual } from 'node:crypto'
import * as querystring from 'node:querystring'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ConsentService } from '../consent/consent-service.js'
import type { Custodian } from '../custodian.js'
import { parseToken } from '../entitlements/tokens.js'
import { isCustodianError } from '../errors.js'
import { html, type Markup, page, pageHeaders } from './html.js'

const COOKIE = 'custodian_account'

type Form = Record<string, string | string[] | undefined>
const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? ''

function cookieOf(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === COOKIE) return decodeURIComponent(value.join('='))
  }
  return undefined
}

/**
 * The customer's pages on the utility's site: sign in, then "3rd Party Access", where every authorization
 * is listed with its third party, meters, scope and end, and can be changed or terminated. The session is
 * a Custodian access token in an HttpOnly, SameSite cookie; every form carries a token bound to it.
 */
export async function registerAccountPages(
  app: FastifyInstance,
  custodian: Custodian,
  consent: ConsentService,
): Promise<void> {
  const csrfKey = await custodian.store.sharedSecret('csrf')
  const csrfFor = (token: string) =>
    createHmac('sha256', csrfKey)
      .update(`account:${parseToken(token)?.id ?? ''}`)
      .digest('base64url')
  const csrfOk = (token: string, given: string) => {
    const expected = Buffer.from(csrfFor(token))
    const actual = Buffer.from(given)
    return expected.length === actual.length && timingSafeEqual(expected, actual)
  }
  const secure = () => custodian.publicUrl.startsWith('https:')
  const setSession = (reply: FastifyReply, token: string, maxAge: number) =>
    reply.header(
      'set-cookie',
      `${COOKIE}=${encodeURIComponent(token)}; Path=/account; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure() ? '; Secure' : ''}`,
    )
  const send = (reply: FastifyReply, title: string, body: Markup, status = 200) =>
    reply.code(status).headers(pageHeaders).send(page(title, body))

  /** The signed-in customer, or undefined (the caller sends the sign-in page). */
  const session = (request: FastifyRequest) => {
    const token = cookieOf(request)
    const check = token ? custodian.whoHolds(token) : undefined
    if (!token || !check?.ok) return undefined
    const customer = custodian.consent.customerOfUser(check.token.user_id)
    return customer ? { token, customer } : undefined
  }

  const signIn = (error?: string) => html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/account/login">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`

  const accessPage = (token: string, message?: { text: string; error: boolean }) => {
    const items = consent.customerAuthorizations(token, custodian.publicUrl)
    const today = new Date(custodian.now()).toISOString().slice(0, 10)
    const csrf = csrfFor(token)
    return html`${message ? html`<p class="${message.error ? 'error' : ''}" role="${message.error ? 'alert' : 'status'}">${message.text}</p>` : ''}
<p>These third parties may receive energy data from your meters. You can change when access ends, or end it.</p>
${
  items.length === 0
    ? html`<p>You have not authorized any third party.</p>`
    : items.map(
        (a) => html`<section aria-labelledby="h-${a.id}"><h2 id="h-${a.id}">${a.thirdParty.name}</h2>
<p>Status: ${a.status}. Meters: ${a.usagePoints.map((u) => u.description || u.id).join(', ')}. Data: <code>${a.scope}</code>. Access ends: ${a.ends.slice(0, 10)}.</p>
${
  a.status === 'active'
    ? html`<form method="post" action="/account/access/${a.id}/end"><input type="hidden" name="csrf" value="${csrf}">
<label for="end-${a.id}">New end date for ${a.thirdParty.name}</label><input type="date" id="end-${a.id}" name="period_end" min="${today}" value="${a.ends.slice(0, 10)}" required>
<button type="submit">Change end date</button></form>
<form method="post" action="/account/access/${a.id}/terminate"><input type="hidden" name="csrf" value="${csrf}">
<label for="stop-${a.id}">Stop sharing with ${a.thirdParty.name} after</label><input type="date" id="stop-${a.id}" name="date" min="${today}" value="${today}" required>
<button type="submit">Terminate</button></form>`
    : ''
}</section>`,
      )
}
<p>Third parties in good standing are listed at <a href="/v1/third-parties">/v1/third-parties</a>.</p>
<form method="post" action="/account/logout"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Sign out</button></form>`
  }

  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 64 * 1024 },
      (_request, body, done) => done(null, querystring.parse(body as string)),
    )
    // The pages authenticate by their own session cookie (or show the sign-in form), so the bearer-token
    // rule for the API does not apply to them.
    scope.get('/account', { schema: { hide: true } }, async (_request, reply) =>
      reply.redirect('/account/access', 303),
    )
    scope.get('/account/access', { schema: { hide: true } }, async (request, reply) => {
      const s = session(request)
      if (!s) return send(reply, 'Sign in to your account', signIn())
      return send(reply, '3rd Party Access', accessPage(s.token))
    })
    scope.post('/account/login', { schema: { hide: true } }, async (request, reply) => {
      const form = (request.body ?? {}) as Form
      const username = first(form.username)
      try {
        const login = await custodian.login(username, first(form.password), { address: request.ip })
        if (!custodian.consent.customerOfUser(login.userId)) {
          await custodian.logout(login.token)
          return send(
            reply,
            'Sign in to your account',
            signIn('This account is not a customer account.'),
            403,
          )
        }
        setSession(reply, login.token, login.idleTimeoutSeconds)
        return reply.redirect('/account/access', 303)
      } catch (error) {
        if (!isCustodianError(error)) throw error
        const text = error.code === 'Throttled' ? error.message : 'Wrong username or password.'
        return send(reply, 'Sign in to your account', signIn(text), error.status)
      }
    })
    const act = (
      path: string,
      run: (token: string, id: string, form: Form) => Promise<{ summary: string }>,
    ) =>
      scope.post(path, { schema: { hide: true } }, async (request, reply) => {
        const s = session(request)
        if (!s) return send(reply, 'Sign in to your account', signIn('Please sign in again.'), 401)
        const form = (request.body ?? {}) as Form
        if (!csrfOk(s.token, first(form.csrf))) {
          return send(
            reply,
            '3rd Party Access',
            accessPage(s.token, { text: 'The form expired: please try again.', error: true }),
            403,
          )
        }
        try {
          const result = await run(s.token, (request.params as { id: string }).id, form)
          return send(reply, '3rd Party Access', accessPage(s.token, { text: result.summary, error: false }))
        } catch (error) {
          if (!isCustodianError(error)) throw error
          return send(
            reply,
            '3rd Party Access',
            accessPage(s.token, { text: error.message, error: true }),
            error.status,
          )
        }
      })
    act('/account/access/:id/end', (token, id, form) => consent.extend(token, id, first(form.period_end)))
    act('/account/access/:id/terminate', (token, id, form) => consent.terminate(token, id, first(form.date)))
    scope.post('/account/logout', { schema: { hide: true } }, async (request, reply) => {
      const s = session(request)
      if (s && csrfOk(s.token, first(((request.body ?? {}) as Form).csrf))) await custodian.logout(s.token)
      setSession(reply, '', 0)
      return reply.redirect('/account/access', 303)
    })
  })
}
