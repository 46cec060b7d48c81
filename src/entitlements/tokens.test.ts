import { describe, expect, it } from 'vitest'
import type { AccessTokenRow } from '../store/schema.js'
import type { Change, PlannedChange } from '../store/store.js'
import { EntitlementIndex } from './entitlement-index.js'
import {
  describeToken,
  hashTokenSecret,
  issueToken,
  matchToken,
  parseToken,
  sameInConstantTime,
  VerifiedTokens,
  validateToken,
} from './tokens.js'

const CREATED = '2026-11-23T10:00:00.000Z'
const T0 = Date.parse(CREATED)
const s = (seconds: number) => seconds * 1000

/** An Index holding the given rows, applied as changes with revisions 1, 2, ... */
function indexOf(changes: PlannedChange[]): EntitlementIndex {
  const index = new EntitlementIndex()
  index.apply(changes.map((change, i) => ({ ...change, revision: i + 1, at: CREATED }) as Change))
  return index
}

/** A token issued to `userId` at T0, living an hour, timing out after ten idle minutes. */
function tokenFor(userId: string, overrides: Partial<AccessTokenRow> = {}) {
  const issued = issueToken()
  const row: AccessTokenRow = {
    id: issued.id,
    user_id: userId,
    secret_hash: issued.secretHash,
    method: 'password',
    created_at: CREATED,
    expires_at: new Date(T0 + s(3600)).toISOString(),
    idle_timeout_seconds: 600,
    last_used_at: CREATED,
    ended_at: null,
    ...overrides,
  }
  const secret = parseToken(issued.token)?.secret as string
  return { token: issued.token, id: issued.id, secret, row }
}

function setup(overrides: Partial<AccessTokenRow> = {}) {
  const t = tokenFor('sam', overrides)
  const index = indexOf([
    { tbl: 'users', op: 'put', row: { id: 'sam', name: 'Sam' } },
    { tbl: 'access_tokens', op: 'put', row: t.row },
  ])
  return { ...t, index }
}

/** The refusal reason, failing the test when the token was accepted; never contains the secret. */
function refusal(check: ReturnType<typeof validateToken>, secret: string): string {
  if (check.ok) throw new Error('expected the token to be refused')
  expect(check.reason).not.toContain(secret)
  return check.reason
}

describe('issueToken and parseToken', () => {
  it('round-trips: the parsed id is the issued id and the secret hashes to the issued hash', () => {
    const issued = issueToken()
    expect(issued.token).toMatch(/^cst_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    const parsed = parseToken(issued.token)
    expect(parsed?.id).toBe(issued.id)
    expect(hashTokenSecret(parsed?.secret as string)).toBe(issued.secretHash)
    expect(issued.secretHash).toMatch(/^[0-9a-f]{64}$/)
    expect(issued.token).not.toContain(issued.secretHash)
  })

  it('issues a different id and secret every time', () => {
    const a = issueToken()
    const b = issueToken()
    expect(a.id).not.toBe(b.id)
    expect(a.secretHash).not.toBe(b.secretHash)
  })

  it.each([
    [''],
    ['abc.def'],
    ['cst_'],
    ['cst_abc'],
    ['cst_.secret'],
    ['cst_abc.'],
    ['CST_abc.def'],
    [' cst_abc.def'],
  ])('refuses the malformed token %j', (token) => {
    expect(parseToken(token)).toBeUndefined()
    expect(describeToken(token)).toBe('the token given')
  })

  it('names a well-formed token by its id alone', () => {
    const issued = issueToken()
    const secret = parseToken(issued.token)?.secret as string
    expect(describeToken(issued.token)).toBe(`token ${issued.id}`)
    expect(describeToken(issued.token)).not.toContain(secret)
  })
})

describe('matchToken', () => {
  it('finds the stored row for a token whose secret matches', () => {
    const { index, token, row } = setup()
    expect(matchToken(index, token)).toEqual(row)
  })

  it('says an empty token is empty and a malformed one is malformed', () => {
    const { index } = setup()
    expect(matchToken(index, '')).toEqual({ error: 'no access token was given (it is empty)' })
    expect(matchToken(index, 'Bearer xyz')).toEqual({
      error: 'the access token is malformed: expected cst_<id>.<secret>',
    })
  })

  it('says a token whose secret does not match is not known, naming the id only', () => {
    const { index, id } = setup()
    const forged = `cst_${id}.not-the-secret`
    expect(matchToken(index, forged)).toEqual({ error: `token ${id} is not known` })
  })

  it('says a token with an unknown id is not known', () => {
    const { index } = setup()
    const other = issueToken()
    expect(matchToken(index, other.token)).toEqual({ error: `token ${other.id} is not known` })
  })
})

describe('validateToken', () => {
  it('accepts a fresh token and reports when it was last used', () => {
    const { index, token, row } = setup()
    const check = validateToken(index, token, T0 + s(60))
    expect(check).toEqual({ ok: true, token: row, lastUsedMs: T0, storedUseMs: T0 })
  })

  it('refuses a forged secret as not known, without echoing the secret', () => {
    const { index, id } = setup()
    const reason = refusal(validateToken(index, `cst_${id}.forged-secret-value`, T0), 'forged-secret-value')
    expect(reason).toBe(`token ${id} is not known`)
  })

  it('refuses a logged-out token, naming its id and user', () => {
    const ended = '2026-11-23T10:05:00.000Z'
    const { index, token, id, secret } = setup({ ended_at: ended })
    const reason = refusal(validateToken(index, token, T0 + s(360)), secret)
    expect(reason).toBe(`token ${id} of sam was logged out at ${ended}`)
  })

  it('refuses a token whose user no longer exists', () => {
    const { index, token, id, secret } = setup()
    index.apply([{ revision: 3, at: CREATED, tbl: 'users', op: 'delete', row: { id: 'sam' } }])
    const reason = refusal(validateToken(index, token, T0 + s(60)), secret)
    expect(reason).toBe(`token ${id} of sam: the user no longer exists`)
  })

  it('refuses an expired token from the moment it expires', () => {
    const { index, token, id, secret, row } = setup({ idle_timeout_seconds: 100_000 })
    expect(validateToken(index, token, T0 + s(3600) - 1).ok).toBe(true)
    const reason = refusal(validateToken(index, token, T0 + s(3600)), secret)
    expect(reason).toBe(`token ${id} of sam expired at ${row.expires_at}`)
  })

  it('refuses a token idle for its idle timeout, saying when it was last used', () => {
    const { index, token, id, secret } = setup()
    expect(validateToken(index, token, T0 + s(600) - 1).ok).toBe(true)
    const reason = refusal(validateToken(index, token, T0 + s(600)), secret)
    expect(reason).toBe(`token ${id} of sam timed out after 600 s without use (last used ${CREATED})`)
  })

  it('extends the idle window from a fresher in-memory last use', () => {
    const { index, token, id, secret } = setup()
    const usedAt = T0 + s(500)
    const check = validateToken(index, token, T0 + s(900), new Map([[id, usedAt]]))
    expect(check).toMatchObject({ ok: true, lastUsedMs: usedAt })
    const reason = refusal(validateToken(index, token, usedAt + s(600), new Map([[id, usedAt]])), secret)
    expect(reason).toContain(`token ${id} of sam timed out`)
    expect(reason).toContain(`last used ${new Date(usedAt).toISOString()}`)
  })

  it('ignores an in-memory last use older than the stored one', () => {
    const storedUse = T0 + s(300)
    const { index, token, id } = setup({ last_used_at: new Date(storedUse).toISOString() })
    const check = validateToken(index, token, T0 + s(800), new Map([[id, T0]]))
    expect(check).toMatchObject({ ok: true, lastUsedMs: storedUse })
  })

  it('never puts the secret in any refusal reason', () => {
    const cases = [
      setup({ ended_at: CREATED }),
      setup({ expires_at: CREATED }),
      setup({ idle_timeout_seconds: 0 }),
    ]
    for (const { index, token, secret } of cases) {
      const check = validateToken(index, token, T0 + s(1))
      expect(check.ok).toBe(false)
      refusal(check, secret)
    }
  })
})

describe('sameInConstantTime', () => {
  it('is true for equal strings only', () => {
    expect(sameInConstantTime('abc', 'abc')).toBe(true)
    expect(sameInConstantTime('abc', 'abd')).toBe(false)
    expect(sameInConstantTime('abc', 'ab')).toBe(false)
    expect(sameInConstantTime('', '')).toBe(true)
  })
})

describe('VerifiedTokens', () => {
  /** The index after the token's row is replaced by `changed` (a write-back, a logout, a new secret). */
  let revision = 10
  const replaced = (index: EntitlementIndex, row: AccessTokenRow, changed: Partial<AccessTokenRow>) => {
    revision += 1
    index.apply([{ tbl: 'access_tokens', op: 'put', row: { ...row, ...changed }, revision, at: CREATED }])
  }

  it('remembers a secret once it matched, and still refuses another secret for the same id', () => {
    const { index, token, id, row } = setup()
    const verified = new VerifiedTokens()
    expect(matchToken(index, `cst_${id}.wrong`, verified)).toEqual({ error: `token ${id} is not known` })
    expect(verified.size).toBe(0)
    expect(matchToken(index, token, verified)).toEqual(row)
    expect(verified.size).toBe(1)
    expect(matchToken(index, token, verified)).toEqual(row)
    expect(matchToken(index, `cst_${id}.wrong`, verified)).toEqual({ error: `token ${id} is not known` })
  })

  it('forgets a secret once the stored hash changes', () => {
    const { index, token, id, row } = setup()
    const verified = new VerifiedTokens()
    expect(validateToken(index, token, T0, undefined, verified).ok).toBe(true)
    replaced(index, row, { secret_hash: issueToken().secretHash })
    expect(matchToken(index, token, verified)).toEqual({ error: `token ${id} is not known` })
    expect(verified.size).toBe(0)
  })

  it('judges a remembered token on its current row: logged out, expired, last used', () => {
    const { index, token, id, row, secret } = setup()
    const verified = new VerifiedTokens()
    expect(validateToken(index, token, T0, undefined, verified).ok).toBe(true)
    replaced(index, row, { last_used_at: new Date(T0 + s(500)).toISOString() })
    expect(validateToken(index, token, T0 + s(900), undefined, verified)).toMatchObject({
      ok: true,
      storedUseMs: T0 + s(500),
    })
    replaced(index, row, { expires_at: new Date(T0 + s(10)).toISOString() })
    expect(refusal(validateToken(index, token, T0 + s(20), undefined, verified), secret)).toContain('expired')
    replaced(index, row, { ended_at: CREATED })
    expect(refusal(validateToken(index, token, T0, undefined, verified), secret)).toBe(
      `token ${id} of sam was logged out at ${CREATED}`,
    )
  })

  it('keeps at most its limit, the oldest leaving first', () => {
    const first = setup()
    const second = tokenFor('sam')
    first.index.apply([{ tbl: 'access_tokens', op: 'put', row: second.row, revision: 9, at: CREATED }])
    const verified = new VerifiedTokens(1)
    matchToken(first.index, first.token, verified)
    matchToken(first.index, second.token, verified)
    expect(verified.size).toBe(1)
    expect(verified.lookup(first.row)).toBeUndefined()
    expect(verified.lookup(second.row)?.secret).toBe(second.secret)
  })
})
