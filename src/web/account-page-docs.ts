import { documented, empty, formBody, htmlBody, params } from '../openapi/route-docs.js'

/**
 * The OpenAPI description of the account pages (account-pages.ts): HTML forms, authenticated by the session
 * cookie rather than a bearer token.
 */
const tags = ['pages']
const seeOther = (where: string) => empty(`Redirects the browser to ${where} (Location header)`)
const csrf = 'The form’s CSRF token'

/** A form that changes one of the signed-in customer's Authorizations, answering the page again. */
const change = (summary: string, fields: Record<string, string>) =>
  documented({
    summary,
    tags,
    params: params({ id: 'The Authorization' }),
    body: formBody({ csrf, ...fields }),
    response: {
      200: htmlBody('Done: the page, saying what changed'),
      '4xx': htmlBody('Refused (signed out, the form expired, the change not allowed): the page, saying why'),
    },
  })

export const accountPageDocs = {
  home: documented({
    summary: 'The account home: redirects to the 3rd Party Access page',
    tags,
    response: { 303: seeOther('/account/access') },
  }),
  access: documented({
    summary:
      '3rd Party Access: the signed-in customer’s Authorizations, and forms to end, terminate or start one',
    tags,
    response: {
      200: htmlBody('The page, or the sign-in form without a session'),
      303: seeOther('/admin/mailbox, for an administrator'),
    },
  }),
  login: documented({
    summary: 'Signs a customer or an administrator in: sets the session cookie',
    tags,
    body: formBody({ username: 'The username', password: 'The password' }),
    response: {
      303: seeOther('/account/access, or /admin/mailbox for an administrator'),
      '4xx': htmlBody(
        'Refused (wrong password, throttled, neither customer nor administrator): the sign-in form, saying why',
      ),
    },
  }),
  start: documented({
    summary:
      'Starts an authorization from the utility’s side: remembers the choices and sends the customer to the third party’s scope selection screen',
    tags,
    body: formBody({
      csrf,
      third_party: 'The third party’s client id',
      usage_point: 'A meter to share (repeated for each)',
      period_end: 'The last day of access, inclusive (YYYY-MM-DD)',
    }),
    response: {
      303: seeOther('the third party’s scope selection screen'),
      '4xx': htmlBody('Refused (signed out, the form expired, a choice missing): the page, saying why'),
    },
  }),
  end: change('Changes the last day of an Authorization', {
    period_end: 'The new last day of access, inclusive (YYYY-MM-DD)',
  }),
  terminate: change('Terminates an Authorization after a given day, once confirmed', {
    date: 'The last day of sharing, inclusive (YYYY-MM-DD)',
    confirm: '"yes" to terminate; without it the answer is the page asking to confirm',
  }),
  mailbox: documented({
    summary: 'Administrators: the emails sent to the mailbox folder while no SMTP server is set',
    tags,
    response: {
      200: htmlBody('The mailbox, or the sign-in form without a session'),
      403: htmlBody('The signed-in user is not an administrator'),
    },
  }),
  thirdParties: documented({
    summary: 'The registered third parties and their standing, for customers to check',
    tags,
    response: { 200: htmlBody('The list') },
  }),
  logout: documented({
    summary: 'Signs out: ends the session and clears its cookie',
    tags,
    body: formBody({ csrf }),
    response: { 303: seeOther('/account/access') },
  }),
}
