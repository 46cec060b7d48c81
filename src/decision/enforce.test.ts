import { describe, expect, it } from 'vitest'
import { AccessDeniedError, type CustodianError, InvalidAccessTokenError } from '../errors.js'
import { allow, deny } from './decision.js'
import { enforce } from './enforce.js'

/** The error `run` throws; fails when it throws none. */
function caught(run: () => void): CustodianError {
  try {
    run()
  } catch (error) {
    return error as CustodianError
  }
  throw new Error('expected a refusal, and none was thrown')
}

describe('enforce', () => {
  it('returns on an allowing decision', () => {
    expect(() => enforce(allow('sam holds admin', 3))).not.toThrow()
  })

  it('makes a refusal AccessDenied by default, the reason after what was refused', () => {
    const error = caught(() =>
      enforce(deny('it needs the admin permission, which sam does not hold', 3), {
        refused: 'sam may not list users',
        details: { user: 'sam' },
      }),
    )
    expect(error).toBeInstanceOf(AccessDeniedError)
    expect(error.message).toBe(
      'sam may not list users: it needs the admin permission, which sam does not hold',
    )
    expect(error.details).toEqual({ user: 'sam' })
    expect(error.status).toBe(403)
  })

  it('makes a refusal InvalidAccessToken or NotFound when asked', () => {
    const token = caught(() => enforce(deny('the token expired', 1), { as: 'token' }))
    expect(token).toBeInstanceOf(InvalidAccessTokenError)
    expect(token.status).toBe(401)
    const hidden = caught(() =>
      enforce(deny('authorization au1 is not one of yours', 1), { as: 'not-found' }),
    )
    expect(hidden.code).toBe('NotFound')
    expect(hidden.message).toBe('authorization au1 is not one of yours')
  })
})
