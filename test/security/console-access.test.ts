import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consoleSignIn } from '../support/console.js'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { until } from '../support/wait.js'

/**
 * The administrator console's rules: its session cookie is HttpOnly, SameSite=Strict, Secure under an https
 * public URL and scoped to /console; every form needs the CSRF token of its own session; an administrator
 * sees and does only what its permissions allow (403 beyond, nothing done); a client secret is shown on the
 * page that registers it and nowhere after; the session ends on sign-out and when idle, like any token.
 */
describe('the console refuses', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string

  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  })
  const signIn = (username: string, password: string) => consoleSignIn(server.url, username, password)
  const get = (cookie: string, path: string) =>
    fetch(`${server.url}${path}`, { headers: { cookie }, redirect: 'manual' })
  const post = (cookie: string, path: string, fields: Record<string, string>) => {
    const request = form(fields)
    return fetch(`${server.url}${path}`, {
      ...request,
      headers: { ...request.headers, cookie },
      redirect: 'manual',
    })
  }
  const csrfOf = async (cookie: string) =>
    /name="csrf" value="([^"]+)"/.exec(await (await get(cookie, '/console')).text())?.[1] ?? ''
  const userExists = async (id: string) =>
    (await call(server.url, 'GET', `/v1/users/${id}`, { token: admin })).status === 200

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target, {
      CUSTODIAN_PUBLIC_URL: 'https://custodian.example',
    }))
  })
  afterAll(async () => {
    await server?.stop()
    temp.remove()
  })

  /** The first administrator's console session (the password was printed once). */
  const adminSession = async () => {
    const s = await signIn('admin', server.adminPassword as string)
    return { ...s, csrf: await csrfOf(s.cookie) }
  }

  it('keeps the session in an HttpOnly, SameSite=Strict, Secure cookie scoped to /console', async () => {
    const { status, setCookie } = await signIn('admin', server.adminPassword as string)
    expect(status).toBe(303)
    expect(setCookie).toMatch(/^custodian_console=cst_/)
    for (const flag of ['; HttpOnly', '; SameSite=Strict', '; Path=/console;', '; Secure'])
      expect(setCookie).toContain(flag)
  })

  it('refuses a form without the CSRF token of its own session, and does nothing', async () => {
    const first = await adminSession()
    const second = await adminSession()
    expect(first.csrf).not.toBe(second.csrf)
    for (const csrf of ['', 'forged', second.csrf]) {
      const response = await post(first.cookie, '/console/users', { csrf, id: 'mallory', name: 'Mallory' })
      expect(response.status, csrf).toBe(403)
      expect(await response.text()).toContain('The form expired or did not come from the console')
    }
    expect(await userExists('mallory')).toBe(false)
    const made = await post(first.cookie, '/console/users', {
      csrf: first.csrf,
      id: 'mallory',
      name: 'Mallory',
    })
    expect(made.status).toBe(200)
    expect(await userExists('mallory')).toBe(true)
  })

  it('refuses forms without a session (401) and sends pages to the sign-in form', async () => {
    const response = await post('', '/console/users', { csrf: 'x', id: 'trudy', name: 'Trudy' })
    expect(response.status).toBe(401)
    expect(await userExists('trudy')).toBe(false)
    const page = await get('', '/console/audit')
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe('/console/login')
  })

  it('lets no user without an administrative permission sign in', async () => {
    await userWithSession(server.url, admin, 'walter')
    const { status, setCookie } = await signIn('walter', 'walter password')
    expect(status).toBe(403)
    expect(setCookie).toBe('')
  })

  it('refuses a holder of user_admin alone every page and form beyond the users, with 403, doing nothing', async () => {
    await call(server.url, 'POST', '/v1/permissions', {
      token: admin,
      body: { id: 'user_admin', name: 'User admin', description: 'Users' },
    })
    await userWithSession(server.url, admin, 'ursula')
    await call(server.url, 'PUT', '/v1/users/ursula/roles/user_admin', { token: admin })
    const { cookie } = await signIn('ursula', 'ursula password')
    const csrf = await csrfOf(cookie)
    expect((await get(cookie, '/console/users')).status).toBe(200)
    for (const path of [
      '/console/third-parties',
      '/console/authorizations',
      '/console/audit',
      '/console/explain',
    ])
      expect((await get(cookie, path)).status, path).toBe(403)
    const beyond = [
      [
        '/console/third-parties',
        {
          name: 'Rogue',
          redirect_uris: 'https://rogue.example/cb',
          notify_uri: 'https://rogue.example/n',
          scope: 'FB=4',
        },
      ],
      ['/console/third-parties/x/standing', { standing: 'suspended' }],
      ['/console/authorizations/x/terminate', { reason: 'because' }],
      ['/console/audit/verify', {}],
      ['/console/explain', { user: 'admin', permission: 'admin', resource: 'x' }],
    ] as const
    for (const [path, fields] of beyond) {
      const response = await post(cookie, path, { csrf, ...fields })
      expect(response.status, path).toBe(403)
    }
    const parties = await call(server.url, 'GET', '/v1/third-parties')
    expect(parties.body.items).toEqual([])
    // Within its powers only: it may not set the password of a holder of admin (and so sign in as them).
    const escalation = await post(cookie, '/console/users/admin/credentials', {
      csrf,
      kind: 'password',
      value: 'taken over!',
    })
    expect(escalation.status).toBe(403)
    expect((await signIn('admin', 'taken over!')).status).toBe(401)
  })

  it('shows a client secret on the page that registers the third party, and nowhere after', async () => {
    const { cookie, csrf } = await adminSession()
    const response = await post(cookie, '/console/third-parties', {
      csrf,
      name: 'Solar Savings',
      redirect_uris: 'https://solar.example/callback',
      notify_uri: 'https://solar.example/n',
      scope: 'FB=1_4_5;IntervalDuration=3600',
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const secret = /data-testid="client-secret">([^<]+)</.exec(await response.text())?.[1] ?? ''
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40,}$/)
    for (const path of ['/console/third-parties', '/console/audit', '/console/authorizations', '/console'])
      expect(await (await get(cookie, path)).text(), path).not.toContain(secret)
  })

  it('ends the session on sign-out, like any token', async () => {
    const { cookie, csrf } = await adminSession()
    expect((await get(cookie, '/console')).status).toBe(200)
    await post(cookie, '/console/logout', { csrf })
    expect((await get(cookie, '/console')).status).toBe(303)
  })
})

describe('the console session', () => {
  const temp = tempSqlite()
  let server: RunningServer

  beforeAll(async () => {
    ;({ server } = await startWithAdmin(temp.target, { CUSTODIAN_IDLE_TIMEOUT: '2' }))
  })
  afterAll(async () => {
    await server?.stop()
    temp.remove()
  })

  it('ends when idle past the timeout, like any token', async () => {
    const { cookie } = await consoleSignIn(server.url, 'admin', server.adminPassword as string)
    const overview = () => fetch(`${server.url}/console`, { headers: { cookie }, redirect: 'manual' })
    expect((await overview()).status).toBe(200)
    // Showing a page is no use of the token: only operations are, so an open tab does not keep it alive.
    await until('the idle session to end', async () => (await overview()).status === 303, 10_000)
  })
})
