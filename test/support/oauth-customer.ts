/**
 * A customer's browser for the OAuth interaction, as plain fetch calls: follows redirects by hand, keeps
 * cookies, fills in the login and consent forms. Stops at the third party's redirect URI and returns it.
 */
export class CookieJar {
  readonly #cookies = new Map<string, string>()

  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = ''] = header.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (/expires=Thu, 01 Jan 1970/i.test(header) || value === '') this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
  }

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

export interface ConsentChoice {
  username: string
  password: string
  /** Default: every meter offered, checked. */
  usagePoints?: string[]
  periodEnd?: string
  decision?: 'approve' | 'deny'
}

const field = (page: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? ''

export async function authorizeAsCustomer(
  base: string,
  authorizationUrl: string,
  redirectUri: string,
  choice: ConsentChoice,
  /** The browser's fetch: another one trusts a test's own certificate authority. */
  send: typeof fetch = fetch,
): Promise<{ callback: URL; pages: string[] }> {
  const jar = new CookieJar()
  const pages: string[] = []
  let url = authorizationUrl
  let method = 'GET'
  let body: string | undefined
  for (let hop = 0; hop < 20; hop++) {
    const response = await send(new URL(url, base), {
      method,
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(body ? { body } : {}),
    })
    jar.take(response)
    method = 'GET'
    body = undefined
    const location = response.headers.get('location')
    if (location) {
      if (location.startsWith(redirectUri)) return { callback: new URL(location), pages }
      url = location
      continue
    }
    const page = await response.text()
    pages.push(page)
    if (response.status >= 400 && !page.includes('<form'))
      throw new Error(`HTTP ${response.status} at ${url}: ${page}`)
    const uid = /action="\/interaction\/([^/]+)\//.exec(page)?.[1]
    if (!uid) throw new Error(`no interaction form at ${url}: ${page}`)
    const csrf = field(page, 'csrf')
    const alert = /role="alert">([^<]*)</.exec(page)?.[1]
    if (alert) throw new Error(`the page refused: ${alert}`)
    if (page.includes('name="password"')) {
      url = `/interaction/${uid}/login`
      body = new URLSearchParams({ csrf, username: choice.username, password: choice.password }).toString()
    } else {
      const offered = [...page.matchAll(/name="usage_point" value="([^"]+)"/g)].map((m) => m[1] as string)
      const form = new URLSearchParams({ csrf, decision: choice.decision ?? 'approve' })
      for (const id of choice.usagePoints ?? offered) form.append('usage_point', id)
      form.set('period_end', choice.periodEnd ?? field(page, 'period_end'))
      url = `/interaction/${uid}/consent`
      body = form.toString()
    }
    method = 'POST'
  }
  throw new Error('too many redirects in the authorization flow')
}
