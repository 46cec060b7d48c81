import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * CSRF tokens for server-rendered forms: an HMAC, under the store's shared `csrf` secret, of what the form
 * belongs to (an OAuth interaction, a session's token id), so no state is kept; the purpose keeps one
 * page's token from passing on another's. Compared in constant time.
 */
export function formTokens(key: string, purpose: string, subjectOf: (owner: string) => string = (o) => o) {
  const csrfFor = (owner: string) =>
    createHmac('sha256', key)
      .update(`${purpose}:${subjectOf(owner)}`)
      .digest('base64url')
  const csrfOk = (owner: string, given: string) => {
    const expected = Buffer.from(csrfFor(owner))
    const actual = Buffer.from(given)
    return expected.length === actual.length && timingSafeEqual(expected, actual)
  }
  return { csrfFor, csrfOk }
}
