import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { type ErrorCode, isCustodianError, RETRY_AFTER_SECONDS } from '../errors.js'
import { isStoreUnavailable } from '../store/unavailable.js'

/**
 * RFC 9457 problem details. `type` is stable per code, so clients can branch on it; `detail` says what was
 * wrong and how to fix it.
 */
export const problemType = (code: string) => `urn:custodian:problem:${code}`

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  code: string
  [extra: string]: unknown
}

const titles: Record<string, string> = {
  AccessDenied: 'Access denied',
  InvalidAccessToken: 'Invalid access token',
  Authentication: 'Authentication failed',
  Throttled: 'Too many failed attempts',
  NotFound: 'Not found',
  Conflict: 'Conflict',
  Syntax: 'Syntax error',
  Validation: 'Invalid request',
  Unavailable: 'Service unavailable',
  TooLarge: 'Payload too large',
  Internal: 'Internal error',
}

export function problem(
  code: ErrorCode | 'Internal',
  status: number,
  detail: string,
  extra: Record<string, unknown> = {},
): Problem {
  return { type: problemType(code), title: titles[code] ?? code, status, detail, code, ...extra }
}

export function sendProblem(reply: FastifyReply, body: Problem): FastifyReply {
  if (body.status === 401) {
    // RFC 6750: a resource server names the OAuth error of a refused token.
    const error = typeof body.oauthError === 'string' ? `, error="${body.oauthError}"` : ''
    reply.header('www-authenticate', `Bearer realm="custodian"${error}`)
  }
  if (typeof body.retryAfterSeconds === 'number') reply.header('retry-after', String(body.retryAfterSeconds))
  return reply.code(body.status).type('application/problem+json').send(body)
}

/** Turns anything thrown in a route into a problem; unexpected errors are logged and told apart from bad input. */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (isCustodianError(error))
    return sendProblem(reply, problem(error.code, error.status, error.message, error.details))
  if (error.validation) {
    const where = error.validationContext ?? 'request'
    const detail = error.validation
      .map((v) => {
        const field = `${where}${v.instancePath.replaceAll('/', '.')}`
        const missing = (v.params as { missingProperty?: string }).missingProperty
        return missing ? `${field}.${missing} is required` : `${field} ${v.message}`
      })
      .join('; ')
    return sendProblem(reply, problem('Validation', 400, detail))
  }
  if (error.statusCode && error.statusCode < 500) {
    return sendProblem(reply, problem('Validation', error.statusCode, error.message))
  }
  if (isStoreUnavailable(error)) {
    request.log.warn({ err: error }, 'the store is unavailable')
    return sendProblem(
      reply,
      problem('Unavailable', 503, 'the store cannot be reached just now; try again shortly', {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      }),
    )
  }
  request.log.error({ err: error }, 'unexpected error')
  return sendProblem(reply, problem('Internal', 500, 'an unexpected error occurred; it has been logged'))
}
