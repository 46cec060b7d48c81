import type { FastifyReply, FastifyRequest } from 'fastify'
import { isAdministrator } from '../entitlements/rules.js'
import type { Node } from '../kernel/node.js'
import type { CustomerRow } from '../store/schema.js'
import { html, type Markup } from './html.js'
import { cookieValue } from './preapproval.js'

/**
 * The customer's one sign-in on the utility's site: a Custodian access token in an HttpOnly, SameSite
 * cookie. The account pages set it at their sign-in, the OAuth login page at its own, and each honours the
 * other's, so a customer signs in once for both.
 */
export const ACCOUNT_COOKIE = 'custodian_account'

export interface AccountSession {
  token: string
  userId: string
  customer: CustomerRow | undefined
  admin: boolean
}

/** The signed-in user (a customer, an administrator, or both), or undefined. */
export function accountSession(custodian: Node, request: FastifyRequest): AccountSession | undefined {
  const token = cookieValue(request.headers.cookie, ACCOUNT_COOKIE)
  const check = token ? custodian.whoHolds(token) : undefined
  if (!token || !check?.ok) return undefined
  const userId = check.token.user_id
  const customer = custodian.consent.customerOfUser(userId)
  const admin = isAdministrator(custodian.index, userId)
  return customer || admin ? { token, userId, customer, admin } : undefined
}

const secure = (custodian: Node) => (custodian.publicUrl.startsWith('https:') ? '; Secure' : '')

/** The Set-Cookie value of the session (maxAge 0 and an empty token: signed out). */
export function sessionCookie(custodian: Node, token: string, maxAge: number): string {
  return `${ACCOUNT_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure(custodian)}`
}

export const setSession = (custodian: Node, reply: FastifyReply, token: string, maxAge: number) =>
  reply.header('set-cookie', sessionCookie(custodian, token, maxAge))

/**
 * oidc-provider's own session cookie (its default name, Path=/, signed): signing out of the account pages
 * drops it too, so that the next grant on this browser asks for a sign-in again.
 */
const OAUTH_SESSION_COOKIES = ['_session', '_session.sig']

/** Signs out of both: the account session and the OAuth session on this browser. */
export const clearSessions = (custodian: Node, reply: FastifyReply) =>
  reply.header('set-cookie', [
    sessionCookie(custodian, '', 0),
    ...OAUTH_SESSION_COOKIES.map(
      (name) => `${name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure(custodian)}`,
    ),
  ])

/** "Signed in as Alice Liddell": the name the utility has for the customer, else the username. */
export const signedInAs = (session: Pick<AccountSession, 'userId' | 'customer'>, signOut?: Markup) =>
  html`<span>Signed in as <strong>${session.customer?.name || session.userId}</strong></span>${signOut ?? ''}`
