import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consoleSignIn, cookieNamed, signInForm } from '../support/console.js'
import { type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * Login CSRF: another site must not sign a browser in to the console (as the attacker's administrator, so
 * that what the victim then does is done in the attacker's name). The sign-in form carries a token bound to a
 * random value in its own SameSite=Strict cookie; a sign-in without both, or with a token from another
 * form, is refused before the password is looked at.
 */
describe('the console sign-in form', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let password: string

  beforeAll(async () => {
    ;({ server } = await startWithAdmin(temp.target, { CUSTODIAN_PUBLIC_URL: 'https://custodian.example' }))
    password = server.adminPassword as string
  })
  afterAll(async () => {
    await server?.stop()
    temp.remove()
  })

  const post = (fields: Record<string, string>, cookie = '') =>
    fetch(`${server.url}/console/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    })

  it('binds its token to a short-lived HttpOnly, SameSite=Strict cookie of its own', async () => {
    const { csrf, response } = await signInForm(server.url)
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{40,}$/)
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('custodian_console_sign_in='))
    for (const flag of [
      '; Path=/console/login;',
      '; HttpOnly',
      '; SameSite=Strict',
      '; Max-Age=900',
      '; Secure',
    ])
      expect(setCookie).toContain(flag)
    // Each form its own: one form's token is no use with another's cookie.
    expect((await signInForm(server.url)).csrf).not.toBe(csrf)
  })

  it('refuses, with a fresh form, a sign-in without its token or cookie, or with another form’s', async () => {
    const mine = await signInForm(server.url)
    const attackers = await signInForm(server.url)
    const credentials = { username: 'admin', password }
    const attempts = [
      ['no token, no cookie', post(credentials)],
      ['the cookie without the token', post(credentials, mine.cookie)],
      ['a forged token', post({ ...credentials, csrf: 'forged' }, mine.cookie)],
      // What a login CSRF page posts: a token the attacker fetched, from a browser without its cookie.
      ['a token without its cookie', post({ ...credentials, csrf: attackers.csrf })],
      ['a token with another form’s cookie', post({ ...credentials, csrf: attackers.csrf }, mine.cookie)],
    ] as const
    for (const [what, attempt] of attempts) {
      const response = await attempt
      expect(response.status, what).toBe(403)
      expect(cookieNamed(response, 'custodian_console'), what).toBe('')
      const page = await response.text()
      expect(page, what).toContain('The sign-in form expired or did not come from the console')
      expect(page, what).toMatch(/name="csrf" value="[A-Za-z0-9_-]{40,}"/)
    }
  })

  it('signs in with the token and cookie of one form, and clears the sign-in cookie', async () => {
    const form = await signInForm(server.url)
    const response = await post({ username: 'admin', password, csrf: form.csrf }, form.cookie)
    expect(response.status).toBe(303)
    expect(response.headers.get('location')).toBe('/console')
    expect(cookieNamed(response, 'custodian_console')).toMatch(/^custodian_console=cst_/)
    expect(cookieNamed(response, 'custodian_console_sign_in')).toBe('custodian_console_sign_in=')
    expect((await consoleSignIn(server.url, 'admin', password)).status).toBe(303)
  })
})
