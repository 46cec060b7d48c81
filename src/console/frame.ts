import { randomBytes } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Custodian } from '../custodian.js'
import { decideAdministration } from '../entitlements/administrative-scope.js'
import { permissionFor } from '../entitlements/permissions.js'
import { parseToken } from '../entitlements/tokens.js'
import { isCustodianError } from '../errors.js'
import { documented, formBody, htmlBody, params } from '../openapi/route-docs.js'
import { formTokens } from '../web/form-tokens.js'
import { html, type Markup, pageHeaders } from '../web/html.js'
import { cookieValue } from '../web/preapproval.js'
import { AREAS, type Area, type AreaKey, areasOf } from './areas.js'
import { consolePage, csrfField, type Notice } from './layout.js'
import { operationRunner, type RunOperation } from './run-operation.js'

/**
 * The console's frame: its session (a Custodian access token in an HttpOnly, SameSite=Strict cookie scoped to
 * /console, so it times out and ends like any token), the CSRF token bound to that session which every form
 * carries, the area check before a page is shown, and the rendering of refusals as pages.
 */

export const CONSOLE_COOKIE = 'custodian_console'
/**
 * Before a session there is nothing to bind a CSRF token to, so the sign-in form is bound to a random value
 * in this short-lived cookie (SameSite=Strict, so a form posted from another site arrives without it): no
 * other site can sign a browser in as the attacker's administrator (login CSRF).
 */
export const SIGN_IN_COOKIE = 'custodian_console_sign_in'
const SIGN_IN_SECONDS = 15 * 60

export type Form = Record<string, string | string[] | undefined>
/** A form or query field as one string ('' when absent; the first when repeated), as sent: a password keeps its spaces. */
export const field = (form: Form | undefined, name: string): string => {
  const value = form?.[name]
  return (Array.isArray(value) ? value[0] : value) ?? ''
}

/** What a page or action of the console works with: who is signed in, and the operations as them. */
export interface ConsoleContext {
  custodian: Custodian
  userId: string
  token: string
  csrf: string
  areas: Area[]
  run: RunOperation
  /** May the administrator use that area? (The navigation shows only those.) */
  may: (area: AreaKey) => boolean
  /** Would the administration table let the administrator run that operation? */
  allows: (operation: string) => boolean
  query: Form
  params: Record<string, string>
}

export interface ConsolePage {
  title: string
  body: Markup
  status?: number
  /** The body loads a script of the console's own: the page's CSP lets it run and call the console. */
  script?: true
}

/** The pages' headers, for a page with a script of the console's own (same origin only). */
const scriptedHeaders = {
  ...pageHeaders,
  'content-security-policy': `${pageHeaders['content-security-policy']}; script-src 'self'; connect-src 'self'`,
}

type Render = (c: ConsoleContext, notice?: Notice) => Promise<ConsolePage>

export interface ConsoleRoutes {
  /** A GET page of an area. `query` names the query fields it reads, for /openapi.json. */
  page(
    path: string,
    area: AreaKey | 'overview',
    summary: string,
    render: Render,
    query?: Record<string, string>,
  ): void
  /**
   * A form's POST: its CSRF token checked, then `act`; its outcome (a notice, or a page of its own such as a
   * secret shown once) or its refusal is shown on `then`, the area's page.
   */
  action(
    path: string,
    area: AreaKey,
    summary: string,
    fields: Record<string, string>,
    act: (c: ConsoleContext, form: Form) => Promise<Notice | ConsolePage>,
    then: Render,
  ): void
}

export async function consoleFrame(app: FastifyInstance, custodian: Custodian) {
  const csrfKey = await custodian.store.sharedSecret('csrf')
  const { csrfFor, csrfOk } = formTokens(csrfKey, 'console', (token) => parseToken(token)?.id ?? '')
  const signInTokens = formTokens(csrfKey, 'console sign-in')
  const cookie = (reply: FastifyReply, name: string, value: string, path: string, maxAge: number) =>
    reply.header(
      'set-cookie',
      `${name}=${encodeURIComponent(value)}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${custodian.publicUrl.startsWith('https:') ? '; Secure' : ''}`,
    )
  const setSession = (reply: FastifyReply, token: string, maxAge: number) =>
    cookie(reply, CONSOLE_COOKIE, token, '/console', maxAge)
  const send = (reply: FastifyReply, html: string, status = 200, script = false) =>
    reply
      .code(status)
      .headers(script ? scriptedHeaders : pageHeaders)
      .send(html)
  /** The sign-in form, bound to a new random value in its own cookie. */
  const sendSignIn = (reply: FastifyReply, error?: string, status = 200) => {
    const nonce = randomBytes(18).toString('base64url')
    cookie(reply, SIGN_IN_COOKIE, nonce, '/console/login', SIGN_IN_SECONDS)
    return send(reply, signInPage(signInTokens.csrfFor(nonce), error), status)
  }

  /** The signed-in administrator: a valid token (not ended, expired or idle) of a user with an area. */
  const session = (request: FastifyRequest) => {
    const token = cookieValue(request.headers.cookie, CONSOLE_COOKIE)
    const check = token ? custodian.whoHolds(token) : undefined
    if (!token || !check?.ok) return undefined
    const userId = check.token.user_id
    return { token, userId, areas: areasOf(custodian.index, userId) }
  }

  const context = (request: FastifyRequest, s: NonNullable<ReturnType<typeof session>>): ConsoleContext => ({
    custodian,
    ...s,
    csrf: csrfFor(s.token),
    run: operationRunner(custodian, s.token, request.ip),
    may: (key) => s.areas.includes(AREAS[key]),
    allows: (op) => decideAdministration(custodian.index, s.userId, permissionFor(op)).allowed,
    query: (request.query ?? {}) as Form,
    params: (request.params ?? {}) as Record<string, string>,
  })
  const framed = (reply: FastifyReply, c: ConsoleContext, current: string, p: ConsolePage) =>
    send(
      reply,
      consolePage(p.title, p.body, { userId: c.userId, areas: c.areas, csrf: c.csrf, current }),
      p.status,
      p.script,
    )
  const signInAgain = (reply: FastifyReply, request: FastifyRequest) =>
    request.method === 'GET'
      ? reply.redirect('/console/login', 303)
      : sendSignIn(reply, 'Your session ended: please sign in again.', 401)

  /** The page of a refusal (the area not allowed, or the operation's own refusal), in the frame. */
  const refused = (reply: FastifyReply, c: ConsoleContext, current: string, status: number, text: string) =>
    framed(reply, c, current, {
      title: status === 403 ? 'Not allowed' : 'Refused',
      body: refusal(text),
      status,
    })

  const routes: ConsoleRoutes = {
    page(path, area, summary, render, query) {
      const current = area === 'overview' ? '/console' : AREAS[area].path
      app.get(path, docs(path, summary, query), async (request, reply) => {
        const s = session(request)
        if (!s) return signInAgain(reply, request)
        const c = context(request, s)
        if (area !== 'overview' && !c.may(area))
          return refused(
            reply,
            c,
            current,
            403,
            `${c.userId} may not use ${AREAS[area].label}: it needs the ${AREAS[area].need} permission (or admin).`,
          )
        try {
          return framed(reply, c, current, await render(c))
        } catch (error) {
          if (!isCustodianError(error)) throw error
          return refused(reply, c, current, error.status, error.message)
        }
      })
    },
    action(path, area, summary, fields, act, then) {
      const current = AREAS[area].path
      app.post(path, docs(path, summary, undefined, fields), async (request, reply) => {
        const s = session(request)
        if (!s) return signInAgain(reply, request)
        const c = context(request, s)
        const form = (request.body ?? {}) as Form
        // Before anything else: a form from another site, or one of an older session, does nothing.
        if (!csrfOk(s.token, field(form, 'csrf')))
          return refused(
            reply,
            c,
            current,
            403,
            'The form expired or did not come from the console: please try again.',
          )
        if (!c.may(area))
          return refused(
            reply,
            c,
            current,
            403,
            `${c.userId} may not use ${AREAS[area].label}: it needs the ${AREAS[area].need} permission (or admin).`,
          )
        try {
          const outcome = await act(c, form)
          return framed(reply, c, current, 'title' in outcome ? outcome : await then(c, outcome))
        } catch (error) {
          if (!isCustodianError(error)) throw error
          const p = await then(c, { text: error.message, error: true }).catch(() => undefined)
          return p
            ? framed(reply, c, current, { ...p, status: error.status })
            : refused(reply, c, current, error.status, error.message)
        }
      })
    },
  }

  // Sign-in, sign-out and the overview: the console's own session cookie, or the sign-in form.
  app.get('/console/login', docs('/console/login', 'The console sign-in form'), async (request, reply) =>
    session(request) ? reply.redirect('/console', 303) : sendSignIn(reply),
  )
  app.post(
    '/console/login',
    docs('/console/login', 'Signs an administrator in: sets the console session cookie', undefined, {
      username: 'The user',
      password: 'Its password',
      csrf: 'The sign-in form’s CSRF token, bound to its cookie',
    }),
    async (request, reply) => {
      const form = (request.body ?? {}) as Form
      // Before the password is even looked at: a sign-in posted from elsewhere signs nobody in.
      const nonce = cookieValue(request.headers.cookie, SIGN_IN_COOKIE) ?? ''
      if (!nonce || !signInTokens.csrfOk(nonce, field(form, 'csrf')))
        return sendSignIn(
          reply,
          'The sign-in form expired or did not come from the console: please try again.',
          403,
        )
      try {
        const login = await custodian.login(field(form, 'username'), field(form, 'password'), {
          address: request.ip,
        })
        if (areasOf(custodian.index, login.userId).length === 0) {
          await custodian.logout(login.token)
          return sendSignIn(reply, `${login.userId} holds no administrative permission.`, 403)
        }
        const maxAge = Math.max(0, Math.floor((Date.parse(login.expiresAt) - custodian.now()) / 1000))
        setSession(reply, login.token, maxAge)
        cookie(reply, SIGN_IN_COOKIE, '', '/console/login', 0)
        return reply.redirect('/console', 303)
      } catch (error) {
        if (!isCustodianError(error)) throw error
        const text = error.code === 'Throttled' ? error.message : 'Wrong username or password.'
        return sendSignIn(reply, text, error.status)
      }
    },
  )
  app.post(
    '/console/logout',
    docs('/console/logout', 'Signs out: ends the session and clears its cookie', undefined, { csrf: CSRF }),
    async (request, reply) => {
      const s = session(request)
      if (s && csrfOk(s.token, field((request.body ?? {}) as Form, 'csrf'))) await custodian.logout(s.token)
      setSession(reply, '', 0)
      return reply.redirect('/console/login', 303)
    },
  )
  return routes
}

const CSRF = 'The form’s CSRF token'

/** The route's description in /openapi.json: an HTML page or form, authenticated by the console cookie. */
function docs(
  path: string,
  summary: string,
  query?: Record<string, string>,
  fields?: Record<string, string>,
) {
  const named = [...path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1] as string)
  return documented({
    summary,
    tags: ['console'],
    ...(named.length > 0 ? { params: params(Object.fromEntries(named.map((n) => [n, n]))) } : {}),
    ...(query
      ? {
          querystring: Type.Object(
            Object.fromEntries(
              Object.entries(query).map(([n, d]) => [n, Type.Optional(Type.String({ description: d }))]),
            ),
          ),
        }
      : {}),
    ...(fields ? { body: formBody({ csrf: CSRF, ...fields }) } : {}),
    response: {
      200: htmlBody('The page'),
      303: htmlBody('Redirects: to the sign-in form without a session'),
      '4xx': htmlBody('Refused (signed out, the form expired, not allowed): the page, saying why'),
    },
  })
}

function signInPage(csrf: string, error?: string): string {
  return consolePage('Sign in to the console', signInForm(csrf, error))
}

const signInForm = (
  csrf: string,
  error?: string,
) => html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/console/login">${csrfField(csrf)}
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`

const refusal = (text: string) => html`<p class="error" role="alert">${text}</p>`
