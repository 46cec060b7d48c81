import { documented, empty, formBody, htmlBody, params, problemBody } from '../openapi/route-docs.js'

/**
 * The OpenAPI description of self-registration (self-registration.ts): HTML forms of an OAuth interaction,
 * reached from its sign-in page, unauthenticated by nature (the customer has no account yet).
 */
const tags = ['oauth', 'pages']
const interaction = params({ uid: 'The interaction, as the authorization endpoint named it' })
const csrf = 'The form’s CSRF token'
const throttled = htmlBody('Too many attempts for this account number or from this address: the page again')

export const selfRegistrationDocs = {
  start: documented({
    summary: 'Asks a customer without an online account for the account number',
    tags,
    params: interaction,
    response: {
      200: htmlBody('The account number form'),
      400: problemBody('The interaction is unknown or has expired'),
    },
  }),
  sendCode: documented({
    summary:
      'Emails a one-time code to the address on file, if the account number is one of a customer without an online account (the page says the same either way)',
    tags,
    params: interaction,
    body: formBody({ csrf, account_number: 'The account number, as on the bill' }),
    response: {
      200: htmlBody('The code and password form'),
      '4xx': htmlBody('No account number, or the form expired: the form again, saying why'),
      429: throttled,
    },
  }),
  confirm: documented({
    summary:
      'Checks the one-time code, sets the chosen password, and signs the customer in to the same grant',
    tags,
    params: interaction,
    body: formBody({
      csrf,
      account_number: 'The account number the code was asked for',
      seal: 'What binds the code to this interaction and account number (from the form)',
      code: 'The one-time code from the email',
      password: 'The chosen password, 8 to 1024 characters',
      password_again: 'The same password again',
    }),
    response: {
      '3xx': empty('Signed in: redirects the browser to the consent page of the grant (Location header)'),
      '4xx': htmlBody('A wrong or expired code, passwords that differ, or the form expired: the form again'),
      429: throttled,
    },
  }),
}
