/**
 * Signing in to the administrator's console without a browser, as a browser does: the sign-in form first
 * (its CSRF token and the cookie it is bound to), then the form posted with both.
 */

/** `name=value` of the cookie `name` among a response's Set-Cookie headers ('' when none was set). */
export const cookieNamed = (response: Response, name: string) =>
  response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0] ?? '')
    .find((c) => c.startsWith(`${name}=`)) ?? ''

/** The sign-in form's CSRF token and the sign-in cookie it is bound to. */
export async function signInForm(url: string) {
  const response = await fetch(`${url}/console/login`, { redirect: 'manual' })
  const csrf = /name="csrf" value="([^"]+)"/.exec(await response.text())?.[1] ?? ''
  return { csrf, cookie: cookieNamed(response, 'custodian_console_sign_in'), response }
}

/** Posts the sign-in form: its status, the session's Set-Cookie header and `cookie` ('' when none was set). */
export async function consoleSignIn(url: string, username: string, password: string) {
  const form = await signInForm(url)
  const response = await fetch(`${url}/console/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.cookie },
    body: new URLSearchParams({ username, password, csrf: form.csrf }).toString(),
    redirect: 'manual',
  })
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith('custodian_console=')) ?? ''
  return { status: response.status, setCookie, cookie: cookieNamed(response, 'custodian_console') }
}
