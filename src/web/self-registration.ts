import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type Provider from 'oidc-provider'
import type { Custodian } from '../custodian.js'
import { hashPassword } from '../entitlements/credentials.js'
import { conflict, isCustodianError } from '../errors.js'
import type { CustomerRow } from '../store/schema.js'
import { html, type Markup } from './html.js'
import { CODE_SECONDS, codeMatches, newCode, sealCode } from './registration-code.js'
import { selfRegistrationDocs } from './self-registration-docs.js'

type Form = Record<string, string | string[] | undefined>
const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value) ?? ''

export interface RegistrationDeps {
  custodian: Custodian
  provider: () => Promise<Provider>
  /** The key of the one-time codes' seals (a store secret, the same on every node). */
  codeKey: string
  csrfFor: (uid: string) => string
  csrfOk: (uid: string, given: string) => boolean
  send: (reply: FastifyReply, title: string, body: Markup, status?: number) => FastifyReply
  /** Ends the interaction's login step as this customer: on to the consent page of the same grant. */
  signedIn: (
    request: FastifyRequest,
    reply: FastifyReply,
    accountId: string,
    session?: { token: string; idleTimeoutSeconds: number },
  ) => Promise<void>
}

const TITLE = 'Create your online account'
const CODE_SENT =
  'If this account number is one of ours and has no online account yet, we have sent a one-time code to the email address we have on file for it.'

/**
 * Self-registration from the sign-in page of a grant (Extension 1 of the ESPI grant use case): a customer
 * the utility knows but who has no online account yet gives the account number, receives a one-time code
 * at the email address on file, chooses a password, and goes on to the consent page of the same grant.
 * Each code asked for and each code tried is counted like a failed login (per account number and
 * address, per address, per account number), and a success clears the count.
 */
export async function selfRegistrationRoutes(scope: FastifyInstance, deps: RegistrationDeps) {
  const { custodian, provider, codeKey, csrfFor, csrfOk, send, signedIn } = deps

  /** The one customer with this account number who has no password yet; undefined otherwise. */
  const withoutAccount = (accountNumber: string): CustomerRow | undefined => {
    const found = [...custodian.consent.customers.values()].filter((c) => c.account_number === accountNumber)
    const [customer] = found
    return found.length === 1 && customer && !custodian.index.passwordHashes.has(customer.user_id)
      ? customer
      : undefined
  }

  const accountPage = (uid: string, error?: string) =>
    html`<p>Your utility knows you by your account number (on your bill). Give it, and we send a one-time code to the email address we have for that account.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/register">
<input type="hidden" name="csrf" value="${csrfFor(uid)}">
<label for="account_number">Account number</label><input type="text" id="account_number" name="account_number" autocomplete="off" required maxlength="100">
<button type="submit" class="primary">Send me a code</button>
</form>
<p><a href="/interaction/${uid}">Back to sign in</a></p>`

  const codePage = (uid: string, accountNumber: string, seal: string, error?: string) =>
    html`<p role="status">${CODE_SENT} It is valid for ${CODE_SECONDS / 60} minutes.</p>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/register/confirm">
<input type="hidden" name="csrf" value="${csrfFor(uid)}">
<input type="hidden" name="account_number" value="${accountNumber}">
<input type="hidden" name="seal" value="${seal}">
<label for="code">One-time code</label><input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
<label for="password">Choose a password (at least 8 characters)</label><input type="password" id="password" name="password" autocomplete="new-password" required minlength="8" maxlength="1024">
<label for="password_again">The same password again</label><input type="password" id="password_again" name="password_again" autocomplete="new-password" required>
<button type="submit" class="primary">Create my account</button>
</form>
<p><a href="/interaction/${uid}/register">Ask for a new code</a></p>`

  /** Counts the step, or answers 429 when the account number or address is locked. */
  const admitted = async (
    reply: FastifyReply,
    accountNumber: string,
    address: string,
    again: () => Markup,
  ) => {
    try {
      return await custodian.admitRegistration(accountNumber, address)
    } catch (error) {
      if (!isCustodianError(error) || error.code !== 'Throttled') throw error
      send(reply, TITLE, again(), 429)
      return undefined
    }
  }

  scope.get('/interaction/:uid/register', selfRegistrationDocs.start, async (request, reply) => {
    const details = await (await provider()).interactionDetails(request.raw, reply.raw)
    return send(reply, TITLE, accountPage(details.uid))
  })

  scope.post('/interaction/:uid/register', selfRegistrationDocs.sendCode, async (request, reply) => {
    const details = await (await provider()).interactionDetails(request.raw, reply.raw)
    const { uid } = details
    const form = (request.body ?? {}) as Form
    if (!csrfOk(uid, first(form.csrf)))
      return send(reply, TITLE, accountPage(uid, 'The form expired: please try again.'), 403)
    const accountNumber = first(form.account_number).trim()
    if (!accountNumber || accountNumber.length > 100)
      return send(reply, TITLE, accountPage(uid, 'Give your account number, as it is on your bill.'), 400)
    const counted = await admitted(reply, accountNumber, request.ip, () =>
      accountPage(uid, 'Too many attempts for this account number or from this address: try again later.'),
    )
    if (!counted) return reply
    const code = newCode()
    const seal = sealCode(
      codeKey,
      { interaction: uid, accountNumber, code },
      custodian.now() + CODE_SECONDS * 1000,
    )
    const customer = withoutAccount(accountNumber)
    // An account number that names no such customer is recorded too: the same transaction either way, so the
    // answer's timing does not tell which account numbers are ours (and the attempts are in the audit log).
    if (!customer)
      await custodian.writeFor('anonymous', 'customer.registration_code', 'unknown account', () => ({
        changes: [],
        summary: 'a one-time code asked for an account number with no customer awaiting an online account',
      }))
    else {
      await custodian.writeFor(customer.user_id, 'customer.registration_code', customer.id, () => ({
        changes: [],
        summary: `a one-time code to create an online account sent to customer ${customer.id}`,
        outbox: [
          {
            channel: 'email',
            target: customer.email,
            subject: 'Your code to create your online account',
            body: [
              `Dear ${customer.name},`,
              '',
              `Your one-time code is ${code}. It is valid for ${CODE_SECONDS / 60} minutes.`,
              'Enter it on the page where you asked for it, then choose your password.',
              `From then on you sign in with the username ${customer.user_id} and that password.`,
              '',
              'If you did not ask for it, ignore this email: nothing changes without the code.',
            ].join('\n'),
            contentType: 'text/plain',
          },
        ],
      }))
    }
    return send(reply, TITLE, codePage(uid, accountNumber, seal))
  })

  scope.post('/interaction/:uid/register/confirm', selfRegistrationDocs.confirm, async (request, reply) => {
    const { uid } = await (await provider()).interactionDetails(request.raw, reply.raw)
    const form = (request.body ?? {}) as Form
    const accountNumber = first(form.account_number).trim()
    const seal = first(form.seal)
    const again = (error: string) => codePage(uid, accountNumber, seal, error)
    if (!csrfOk(uid, first(form.csrf)))
      return send(reply, TITLE, again('The form expired: please try again.'), 403)
    const password = first(form.password)
    if (password.length < 8 || password.length > 1024)
      return send(reply, TITLE, again('Choose a password of 8 to 1024 characters.'), 400)
    if (password !== first(form.password_again))
      return send(reply, TITLE, again('The two passwords differ: type the same one twice.'), 400)
    const counted = await admitted(reply, accountNumber, request.ip, () =>
      again('Too many attempts for this account number or from this address: try again later.'),
    )
    if (!counted) return reply
    const claim = { interaction: uid, accountNumber, code: first(form.code).trim() }
    const customer = withoutAccount(accountNumber)
    if (!customer || !codeMatches(codeKey, claim, seal, custodian.now()))
      return send(
        reply,
        TITLE,
        again('That code is wrong or has expired: check it, or ask for a new one.'),
        400,
      )
    const secretHash = await hashPassword(password)
    await custodian.writeFor(customer.user_id, 'customer.register', customer.id, (world) => {
      // Two tabs with the same code: the first one wins.
      if (world.index.passwordHashes.has(customer.user_id))
        throw conflict(`customer ${customer.id} already has an online account`)
      return {
        changes: [
          {
            tbl: 'credentials',
            op: 'put',
            row: { user_id: customer.user_id, kind: 'password', secret_hash: secretHash },
          },
        ],
        summary: `customer ${customer.id} created an online account (one-time code sent to the email on file)`,
      }
    })
    await custodian.settleRegistration(counted)
    // Signed in with the new password: the account pages need no second sign-in either.
    await signedIn(
      request,
      reply,
      customer.id,
      await custodian.login(customer.user_id, password, { address: request.ip }),
    )
  })
}
