import * as querystring from 'node:querystring'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { endOfDay } from '../consent/changes.js'
import type { ConsentService } from '../consent/consent-service.js'
import { accessEnds, customerLocale, lastDay } from '../consent/end-of-access.js'
import { type AuthorizationChange, changeSentence } from '../consent/notices.js'
import { capitalize, describeScopeText, meterLabel } from '../consent/scope-wording.js'
import { isAdministrator } from '../entitlements/rules.js'
import { parseToken } from '../entitlements/tokens.js'
import { isCustodianError } from '../errors.js'
import type { Node } from '../kernel/node.js'
import { readMailbox } from '../notify/mailbox.js'
import { accountDataRoutes } from './account-data.js'
import { accountPageDocs as docs } from './account-page-docs.js'
import {
  type AccountSession,
  accountSession,
  clearSessions,
  setSession,
  signedInAs,
} from './account-session.js'
import { brandedHeaders, brandingOf } from './branding.js'
import { formTokens } from './form-tokens.js'
import { html, type Markup, page } from './html.js'
import { PREAPPROVAL_COOKIE, PREAPPROVAL_SECONDS, sealPreApproval } from './preapproval.js'

type Form = Record<string, string | string[] | undefined>
const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? ''

/**
 * The customer's pages on the utility's site: sign in, then "3rd Party Access", where every authorization
 * is listed with its third party, meters, what it receives and when access ends, and can be changed or
 * ended (after a confirmation). The session (account-session.ts) is shared with the OAuth login page; every
 * form carries a token bound to it.
 */
export const accountPageRoutes: FastifyPluginAsync<{ custodian: Node; consent: ConsentService }> = async (
  app,
  { custodian, consent },
) => {
  const csrfKey = await custodian.store.sharedSecret('csrf')
  const branding = brandingOf(custodian.config)
  const headers = brandedHeaders(branding)
  const { csrfFor, csrfOk } = formTokens(csrfKey, 'account', (token) => parseToken(token)?.id ?? '')
  const secure = () => custodian.publicUrl.startsWith('https:')
  /** Every page names the utility and, once signed in, who is, with the way to sign out. */
  const send = (reply: FastifyReply, title: string, body: Markup, status = 200, who?: AccountSession) =>
    reply
      .code(status)
      .headers(headers)
      .send(
        page(title, body, {
          utility: branding,
          signedIn: who
            ? signedInAs(
                who,
                html`<form method="post" action="/account/logout" style="display:inline"><input type="hidden" name="csrf" value="${csrfFor(who.token)}"><button type="submit">Sign out</button></form>`,
              )
            : undefined,
        }),
      )
  const session = (request: FastifyRequest) => accountSession(custodian, request)
  const localeOf = (request: FastifyRequest) => customerLocale(request.headers['accept-language'])
  const today = () => new Date(custodian.now()).toISOString().slice(0, 10)

  const signIn = (error?: string) => html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/account/login">
<label for="username">Username</label><input type="text" id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button>
</form>`

  const meterChoices = (customerId: string, prefix: string) =>
    custodian.consent
      .usagePointsOf(customerId)
      .map(
        (p) =>
          html`<div><input type="checkbox" id="${prefix}-${p.id}" name="usage_point" value="${p.id}" checked><label for="${prefix}-${p.id}" style="display:inline">${meterLabel(p)}</label></div>`,
      )

  /** Grants that start here: choose, then go on to the third party, which asks for the authorization. */
  const startForm = (customerId: string, csrf: string) => {
    const parties = [...custodian.consent.thirdParties.values()].filter(
      (p) => p.standing === 'active' && p.scope_selection_uri,
    )
    if (parties.length === 0 || custodian.consent.usagePointsOf(customerId).length === 0) return ''
    const inAYear = new Date(custodian.now() + 365 * 86_400_000).toISOString().slice(0, 10)
    return html`<section aria-labelledby="h-new"><h2 id="h-new">Authorize a third party</h2>
<form method="post" action="/account/access/new"><input type="hidden" name="csrf" value="${csrf}">
<label for="third_party">Third party</label><select id="third_party" name="third_party">${parties.map((p) => html`<option value="${p.client_id}">${p.name}</option>`)}</select>
<fieldset><legend>Which meters may it see?</legend>
${meterChoices(customerId, 'new')}
</fieldset>
<label for="new_end">Access ends after</label><input type="date" id="new_end" name="period_end" min="${today()}" value="${inAYear}" required>
<button type="submit" class="primary">Continue to the third party</button>
</form></section>`
  }

  type Authorization = ReturnType<ConsentService['customerAuthorizations']>[number]
  const STATUS = { active: 'Sharing', terminated: 'Ended by you', expired: 'Ended (the period is over)' }

  /** One third party's access: what it receives, from which meters, until when, and the ways to change it. */
  const authorizationSection = (a: Authorization, csrf: string, locale: string) => {
    const wording = describeScopeText(a.scope)
    const meters = a.usagePoints.map((u) => {
      const point = custodian.consent.usagePoints.get(u.id)
      return point ? meterLabel(point) : u.description
    })
    return html`<section aria-labelledby="h-${a.id}"><h2 id="h-${a.id}">${a.thirdParty.name}</h2>
<dl><dt>Status</dt><dd>${STATUS[a.status]}</dd>
<dt>Meters</dt><dd>${meters.join(', ')}</dd>
<dt>What it receives</dt><dd><ul>${wording.data.map((d) => html`<li>${capitalize(d)}</li>`)}</ul>${capitalize(wording.history)}, ${wording.frequency}.</dd>
<dt>Until</dt><dd>${capitalize(accessEnds(a.ends, locale, custodian.now()))}.</dd></dl>
${
  a.status === 'active'
    ? html`<form method="post" action="/account/access/${a.id}/end"><input type="hidden" name="csrf" value="${csrf}">
<label for="end-${a.id}">New last day of access for ${a.thirdParty.name}</label><input type="date" id="end-${a.id}" name="period_end" min="${today()}" value="${lastDay(a.ends)}" required>
<button type="submit">Change end date</button></form>
<form method="post" action="/account/access/${a.id}/terminate"><input type="hidden" name="csrf" value="${csrf}">
<label for="stop-${a.id}">Stop sharing with ${a.thirdParty.name} after</label><input type="date" id="stop-${a.id}" name="date" min="${today()}" value="${today()}" required>
<button type="submit">End access…</button></form>`
    : ''
}</section>`
  }

  /**
   * The 3rd Party Access page: a list of sections, in order. Other features add theirs here (each a
   * function of the signed-in customer).
   */
  const accessPage = (
    s: AccountSession,
    customerId: string,
    locale: string,
    message?: { text: string; error: boolean },
  ) => {
    const items = consent.customerAuthorizations(s.token, custodian.publicUrl)
    const csrf = csrfFor(s.token)
    const sections: Markup[] = [
      message
        ? html`<p class="${message.error ? 'error' : ''}" role="${message.error ? 'alert' : 'status'}">${message.text}</p>`
        : html``,
      html`<p>These third parties may receive energy data from your meters. You can change when access ends, or end it.</p>`,
      items.length === 0
        ? html`<p>You have not authorized any third party.</p>`
        : html`${items.map((a) => authorizationSection(a, csrf, locale))}`,
      html`${startForm(customerId, csrf)}`,
      html`<p>See <a href="/account/data">what each third party can see and has fetched, and download your data</a>.</p>`,
      html`<p>See which <a href="/third-parties">third parties are in good standing</a>.</p>`,
    ]
    return html`${sections}`
  }

  /** Asks before ending access: what the third party keeps, and that it cannot be undone. */
  const confirmEnd = (a: Authorization, csrf: string, date: string, locale: string) => {
    const chosen = endOfDay(date, new Date(custodian.now()).toISOString()) ?? a.ends
    // Ending access never lengthens it.
    const end = chosen < a.ends ? chosen : a.ends
    return html`<p>${a.thirdParty.name} will stop receiving your energy data: ${accessEnds(end, locale)}. It may read data up to and including that day, and nothing after. To share again later, you authorize it anew.</p>
<form method="post" action="/account/access/${a.id}/terminate"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="date" value="${date}"><input type="hidden" name="confirm" value="yes">
<button type="submit" class="primary">Yes, end access</button></form>
<p><a href="/account/access">No, keep sharing with ${a.thirdParty.name}</a></p>`
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
      return send(reply, '3rd Party Access', accessPage(s, s.customer.id, localeOf(request)), 200, s)
    })
    // Access history and Download My Data (account-data.ts), on the same session.
    await scope.register(accountDataRoutes, { custodian, session, signIn, send })
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
        setSession(custodian, reply, login.token, login.idleTimeoutSeconds)
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
      const locale = localeOf(request)
      if (!csrfOk(s.token, first(form.csrf))) {
        send(
          reply,
          '3rd Party Access',
          accessPage(s, s.customer.id, locale, { text: 'The form expired: please try again.', error: true }),
          403,
          s,
        )
        return undefined
      }
      return { session: s, customerId: s.customer.id, form, locale }
    }
    type Change = { change: AuthorizationChange; run: (token: string, id: string) => Promise<unknown> }
    /** Runs a change to one authorization and answers the page saying, in the email's words, what it did. */
    const act = (
      path: string,
      options: typeof docs.end,
      plan: (
        form: Form,
        own: Authorization,
        c: NonNullable<ReturnType<typeof customerForm>>,
        reply: FastifyReply,
      ) => Change | string | undefined,
    ) =>
      scope.post(path, options, async (request, reply) => {
        const c = customerForm(request, reply)
        if (!c) return reply
        const id = (request.params as { id: string }).id
        const page = (text: string, error: boolean, status = 200) =>
          send(
            reply,
            '3rd Party Access',
            accessPage(c.session, c.customerId, c.locale, { text, error }),
            status,
            c.session,
          )
        const own = consent
          .customerAuthorizations(c.session.token, custodian.publicUrl)
          .find((a) => a.id === id)
        // Another customer's authorization reads as one that does not exist.
        if (!own) return page('That authorization does not exist.', true, 404)
        const planned = plan(c.form, own, c, reply)
        if (planned === undefined) return reply
        if (typeof planned === 'string') return page(planned, true, 400)
        try {
          await planned.run(c.session.token, id)
        } catch (error) {
          if (!isCustodianError(error)) throw error
          // The service's messages name the authorization by its id, which means nothing to a customer.
          return page(
            error.message.replace(/authorization au_[\w-]+/g, `the authorization of ${own.thirdParty.name}`),
            true,
            error.status,
          )
        }
        const after = consent
          .customerAuthorizations(c.session.token, custodian.publicUrl)
          .find((a) => a.id === id)
        const row = {
          period_end: after?.ends ?? own.ends,
          usage_point_ids: JSON.stringify(own.usagePoints.map((u) => u.id)),
        }
        return page(changeSentence(planned.change, own.thirdParty.name, row, c.locale), false)
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
              ? 'Choose the last day of access.'
              : undefined
      if (problem || !party?.scope_selection_uri)
        return send(
          reply,
          '3rd Party Access',
          accessPage(c.session, c.customerId, c.locale, { text: problem ?? '', error: true }),
          400,
          c.session,
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
    // The form names the last day of access; the Authorization stores the exclusive end after it.
    act('/account/access/:id/end', docs.end, (form) => {
      const end = endOfDay(first(form.period_end), new Date(custodian.now()).toISOString())
      if (!end || !/^\d{4}-\d{2}-\d{2}$/.test(first(form.period_end))) return 'Choose the last day of access.'
      if (first(form.period_end) < today()) return 'Choose today or a later day as the last day of access.'
      return { change: 'extended', run: (token, id) => consent.extend(token, id, end) }
    })
    act('/account/access/:id/terminate', docs.terminate, (form, own, c, reply) => {
      const date = first(form.date)
      if (first(form.confirm) !== 'yes') {
        send(
          reply,
          `End ${own.thirdParty.name}'s access?`,
          confirmEnd(own, csrfFor(c.session.token), date, c.locale),
          200,
          c.session,
        )
        return undefined
      }
      return { change: 'terminated', run: (token, id) => consent.terminate(token, id, date) }
    })
    // Administrators see the emails that went to the mailbox folder (no SMTP server set).
    scope.get('/admin/mailbox', docs.mailbox, async (request, reply) => {
      const s = session(request)
      if (!s?.admin)
        return send(
          reply,
          'Sign in to your account',
          signIn(s ? 'Only administrators may see the mailbox.' : undefined),
          s ? 403 : 200,
          s,
        )
      const messages = await readMailbox(custodian.config.mailbox)
      return send(
        reply,
        'Mailbox',
        html`<p>Emails Custodian sent while no SMTP server is set, newest first (folder <code>${custodian.config.mailbox}</code>).</p>
${messages.length === 0 ? html`<p>No messages yet.</p>` : messages.map((m) => html`<article><h2>${m.subject}</h2><p>To ${m.to}, ${m.date}</p><pre>${m.text}</pre></article>`)}`,
        200,
        s,
      )
    })
    // Public by design: the seed asks for a list customers can check a third party's standing against.
    scope.get('/third-parties', docs.thirdParties, async (request, reply) => {
      const parties = consent.publicThirdParties()
      return send(
        reply,
        'Third parties',
        html`<p>Third parties registered with ${branding.name}. Only those in good standing can be authorized.</p>
<table><thead><tr><th scope="col">Name</th><th scope="col">What it does</th><th scope="col">Standing</th></tr></thead>
<tbody>${parties.map((p) => html`<tr><td>${p.name}</td><td>${p.description}</td><td>${p.standing === 'active' ? 'in good standing' : p.standing}</td></tr>`)}</tbody></table>`,
        200,
        session(request),
      )
    })
    scope.post('/account/logout', docs.logout, async (request, reply) => {
      const s = session(request)
      if (s && csrfOk(s.token, first(((request.body ?? {}) as Form).csrf))) await custodian.logout(s.token)
      clearSessions(custodian, reply)
      return reply.redirect('/account/access', 303)
    })
  })
}
