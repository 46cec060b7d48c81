import { createHmac, timingSafeEqual } from 'node:crypto'
import * as querystring from 'node:querystring'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { ConsentService } from '../consent/consent-service.js'
import { isAdministrator } from '../entitlements/rules.js'
import { parseToken } from '../entitlements/tokens.js'
import { isCustodianError } from '../errors.js'
import type { Node } from '../kernel/node.js'
import { readMailbox } from '../notify/mailbox.js'
import { accountDataRoutes } from './account-data.js'
import { accountPageDocs as docs } from './account-page-docs.js'
import { html, type Markup, page, pageHeaders } from './html.js'
import { cookieValue, PREAPPROVAL_COOKIE, PREAPPROVAL_SECONDS, sealPreApproval } from './preapproval.js'

const COOKIE = 'custodian_account'

type Form = Record<string, string | string[] | undefined>
const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? ''

/**
 * The customer's pages on the utility's site: sign in, then "3rd Party Access", where every authorization
 * is listed with its third party, meters, scope and end, and can be changed or terminated. The session is
 * a Custodian access token in an HttpOnly, SameSite cookie; every form carries a token bound to it.
 */
export const accountPageRoutes: FastifyPluginAsync<{ custodian: Node; consent: ConsentService }> = async (
  app,
  { custodian, consent },
) => {
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
      `${COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure() ? '; Secure' : ''}`,
    )
  const send = (reply: FastifyReply, title: string, body: Markup, status = 200) =>
    reply.code(status).headers(pageHeaders).send(page(title, body))

  /** The signed-in user (a customer, an administrator, or both), or undefined. */
  const session = (request: FastifyRequest) => {
    const token = cookieValue(request.headers.cookie, COOKIE)
    const check = token ? custodian.whoHolds(token) : undefined
    if (!token || !check?.ok) return undefined
    const userId = check.token.user_id
    const customer = custodian.consent.customerOfUser(userId)
    const admin = isAdministrator(custodian.index, userId)
    return customer || admin ? { token, userId, customer, admin } : undefined
  }

  const signIn = (error?: string) => html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/account/login">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`

  /** Grants that start here: choose, then go on to the third party, which asks for the authorization. */
  const startForm = (customerId: string, csrf: string, today: string) => {
    const parties = [...custodian.consent.thirdParties.values()].filter(
      (p) => p.standing === 'active' && p.scope_selection_uri,
    )
    const points = custodian.consent.usagePointsOf(customerId)
    if (parties.length === 0 || points.length === 0) return ''
    const inAYear = new Date(custodian.now() + 365 * 86_400_000).toISOString().slice(0, 10)
    return html`<section aria-labelledby="h-new"><h2 id="h-new">Authorize a third party</h2>
<form method="post" action="/account/access/new"><input type="hidden" name="csrf" value="${csrf}">
<label for="third_party">Third party</label><select id="third_party" name="third_party">${parties.map((p) => html`<option value="${p.client_id}">${p.name}</option>`)}</select>
<fieldset><legend>Which meters may it see?</legend>
${points.map((p) => html`<div><input type="checkbox" id="new-${p.id}" name="usage_point" value="${p.id}" checked><label for="new-${p.id}" style="display:inline">${p.description || p.id} (${p.service_kind})</label></div>`)}
</fieldset>
<label for="new_end">Until</label><input type="date" id="new_end" name="period_end" min="${today}" value="${inAYear}" required>
<button type="submit">Continue to the third party</button>
</form></section>`
  }

  const accessPage = (token: string, customerId: string, message?: { text: string; error: boolean }) => {
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
${startForm(customerId, csrf, today)}
<p>See <a href="/account/data">what each third party can see and has fetched, and download your data</a>.</p>
<p>See which <a href="/third-parties">third parties are in good standing</a>.</p>
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
    scope.get('/account', docs.home, async (_request, reply) => reply.redirect('/account/access', 303))
    scope.get('/account/access', docs.access, async (request, reply) => {
      const s = session(request)
      if (!s) return send(reply, 'Sign in to your account', signIn())
      if (!s.customer) return reply.redirect('/admin/mailbox', 303)
      return send(reply, '3rd Party Access', accessPage(s.token, s.customer.id))
    })
    // Access history and Download My Data (account-data.ts), on the same session.
    await scope.register(accountDataRoutes, { custodian, session, signIn })
    scope.post('/account/login', docs.login, async (request, reply) => {
      const form = (request.body ?? {}) as Form
      const username = first(form.username)
      try {
        const login = await custodian.login(username, first(form.password), { address: request.ip })
        const customer = custodian.consent.customerOfUser(login.userId)
        if (!customer && !isAdministrator(custodian.index, login.userId)) {
          await custodian.logout(login.token)
          return send(
            reply,
            'Sign in to your account',
            signIn('This account is neither a customer nor an administrator.'),
            403,
          )
        }
        setSession(reply, login.token, login.idleTimeoutSeconds)
        return reply.redirect(customer ? '/account/access' : '/admin/mailbox', 303)
      } catch (error) {
        if (!isCustodianError(error)) throw error
        const text = error.code === 'Throttled' ? error.message : 'Wrong username or password.'
        return send(reply, 'Sign in to your account', signIn(text), error.status)
      }
    })
    /** A form of the signed-in customer with a valid CSRF token, or the page that says why not. */
    const customerForm = (request: FastifyRequest, reply: FastifyReply) => {
      const s = session(request)
      if (!s?.customer) {
        send(reply, 'Sign in to your account', signIn('Please sign in again.'), 401)
        return undefined
      }
      const form = (request.body ?? {}) as Form
      if (!csrfOk(s.token, first(form.csrf))) {
        send(
          reply,
          '3rd Party Access',
          accessPage(s.token, s.customer.id, { text: 'The form expired: please try again.', error: true }),
          403,
        )
        return undefined
      }
      return { token: s.token, customerId: s.customer.id, form }
    }
    const act = (
      path: string,
      options: typeof docs.end,
      run: (token: string, id: string, form: Form) => Promise<{ summary: string }>,
    ) =>
      scope.post(path, options, async (request, reply) => {
        const c = customerForm(request, reply)
        if (!c) return reply
        try {
          const result = await run(c.token, (request.params as { id: string }).id, c.form)
          return send(
            reply,
            '3rd Party Access',
            accessPage(c.token, c.customerId, { text: result.summary, error: false }),
          )
        } catch (error) {
          if (!isCustodianError(error)) throw error
          return send(
            reply,
            '3rd Party Access',
            accessPage(c.token, c.customerId, { text: error.message, error: true }),
            error.status,
          )
        }
      })
    scope.post('/account/access/new', docs.start, async (request, reply) => {
      const c = customerForm(request, reply)
      if (!c) return reply
      const { form } = c
      const party = custodian.consent.thirdParties.get(first(form.third_party))
      const own = new Set(custodian.consent.usagePointsOf(c.customerId).map((p) => p.id))
      const chosen = (
        Array.isArray(form.usage_point) ? form.usage_point : form.usage_point ? [form.usage_point] : []
      ).filter((id) => own.has(id))
      const problem =
        party?.standing !== 'active' || !party.scope_selection_uri
          ? 'That third party cannot be authorized from here.'
          : chosen.length === 0
            ? 'Choose at least one meter.'
            : !/^\d{4}-\d{2}-\d{2}$/.test(first(form.period_end))
              ? 'Choose the date access ends.'
              : undefined
      if (problem || !party?.scope_selection_uri)
        return send(
          reply,
          '3rd Party Access',
          accessPage(c.token, c.customerId, { text: problem ?? '', error: true }),
          400,
        )
      const sealed = sealPreApproval(csrfKey, {
        clientId: party.client_id,
        customerId: c.customerId,
        usagePointIds: chosen,
        periodEnd: first(form.period_end),
        expiresAt: custodian.now() + PREAPPROVAL_SECONDS * 1000,
      })
      reply.header(
        'set-cookie',
        `${PREAPPROVAL_COOKIE}=${encodeURIComponent(sealed)}; Path=/interaction; HttpOnly; SameSite=Lax; Max-Age=${PREAPPROVAL_SECONDS}${secure() ? '; Secure' : ''}`,
      )
      const next = new URL(party.scope_selection_uri)
      next.searchParams.set('scope', party.scope)
      next.searchParams.set('DataCustodianID', custodian.publicUrl)
      return reply.redirect(next.href, 303)
    })
    act('/account/access/:id/end', docs.end, (token, id, form) =>
      consent.extend(token, id, first(form.period_end)),
    )
    act('/account/access/:id/terminate', docs.terminate, (token, id, form) =>
      consent.terminate(token, id, first(form.date)),
    )
    // Administrators see the emails that went to the mailbox folder (no SMTP server set).
    scope.get('/admin/mailbox', docs.mailbox, async (request, reply) => {
      const s = session(request)
      if (!s?.admin)
        return send(
          reply,
          'Sign in to your account',
          signIn(s ? 'Only administrators may see the mailbox.' : undefined),
          s ? 403 : 200,
        )
      const messages = await readMailbox(custodian.config.mailbox)
      return send(
        reply,
        'Mailbox',
        html`<p>Emails Custodian sent while no SMTP server is set, newest first (folder <code>${custodian.config.mailbox}</code>).</p>
${messages.length === 0 ? html`<p>No messages yet.</p>` : messages.map((m) => html`<article><h2>${m.subject}</h2><p>To ${m.to}, ${m.date}</p><pre>${m.text}</pre></article>`)}
<form method="post" action="/account/logout"><input type="hidden" name="csrf" value="${csrfFor(s.token)}"><button type="submit">Sign out</button></form>`,
      )
    })
    // Public by design: the seed asks for a list customers can check a third party's standing against.
    scope.get('/third-parties', docs.thirdParties, async (_request, reply) => {
      const parties = consent.publicThirdParties()
      return send(
        reply,
        'Third parties',
        html`<p>Third parties registered with this utility. Only those in good standing can be authorized.</p>
<table><thead><tr><th scope="col">Name</th><th scope="col">What it does</th><th scope="col">Standing</th></tr></thead>
<tbody>${parties.map((p) => html`<tr><td>${p.name}</td><td>${p.description}</td><td>${p.standing === 'active' ? 'in good standing' : p.standing}</td></tr>`)}</tbody></table>`,
      )
    })
    scope.post('/account/logout', docs.logout, async (request, reply) => {
      const s = session(request)
      if (s && csrfOk(s.token, first(((request.body ?? {}) as Form).csrf))) await custodian.logout(s.token)
      setSession(reply, '', 0)
      return reply.redirect('/account/access', 303)
    })
  })
}
