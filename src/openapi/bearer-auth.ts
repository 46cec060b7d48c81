import type { FastifyRequest } from 'fastify'

/**
 * The API's bearer scheme (bearerAuth in document.ts): the security requirement a route's schema names, and
 * the token its handler reads. The app refuses a request to such a route without one before its handler runs.
 */
export const bearer = [{ bearerAuth: [] }]

/** The token of `Authorization: Bearer <token>`; '' for another scheme, undefined without the header. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (!header) return undefined
  const match = /^Bearer\s+(.+)$/i.exec(header)
  return match ? (match[1] as string).trim() : ''
}
