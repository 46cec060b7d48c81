import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { AccessTokenRow } from '../store/schema.js'
import type { EntitlementIndex } from './entitlement-index.js'

/**
 * Access tokens are `cst_<id>.<secret>`: the id finds the stored record, the secret is checked against its
 * SHA-256 in constant time. Only the hash is stored; messages and logs name a token by its id alone.
 */
const PREFIX = 'cst_'
const ID_BYTES = 12
const SECRET_BYTES = 32

export interface IssuedToken {
  token: string
  id: string
  secretHash: string
}

export const hashTokenSecret = (secret: string) => createHash('sha256').update(secret).digest('hex')

export function issueToken(): IssuedToken {
  const id = randomBytes(ID_BYTES).toString('base64url')
  const secret = randomBytes(SECRET_BYTES).toString('base64url')
  return { token: `${PREFIX}${id}.${secret}`, id, secretHash: hashTokenSecret(secret) }
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  if (!token.startsWith(PREFIX)) return undefined
  const dot = token.indexOf('.', PREFIX.length)
  if (dot < 0) return undefined
  const id = token.slice(PREFIX.length, dot)
  const secret = token.slice(dot + 1)
  return id && secret ? { id, secret } : undefined
}

/** A short, safe name for a token in messages: its id, never the secret. */
export function describeToken(token: string): string {
  const parsed = parseToken(token)
  return parsed ? `token ${parsed.id}` : 'the token given'
}

export type TokenCheck =
  | { ok: true; token: AccessTokenRow; lastUsedMs: number }
  | { ok: false; reason: string }

/** The stored record `token` belongs to, if its secret matches; compared in constant time. */
export function matchToken(index: EntitlementIndex, token: string): AccessTokenRow | { error: string } {
  if (token === '') return { error: 'no access token was given (it is empty)' }
  const parsed = parseToken(token)
  if (!parsed) return { error: 'the access token is malformed: expected cst_<id>.<secret>' }
  const row = index.tokens.get(parsed.id)
  const given = Buffer.from(hashTokenSecret(parsed.secret), 'hex')
  // Compare even when the id is unknown, so timing does not tell which ids exist.
  const stored = Buffer.from(row?.secret_hash ?? '0'.repeat(64), 'hex')
  if (!row || !timingSafeEqual(given, stored)) return { error: `token ${parsed.id} is not known` }
  return row
}

/**
 * Is `token` usable at `nowMs`? `lastUsedMs` is this node's memory of the token's latest use, which may be
 * fresher than the stored `last_used_at` (uses are written back lazily).
 */
export function validateToken(
  index: EntitlementIndex,
  token: string,
  nowMs: number,
  lastUsedMs = 0,
): TokenCheck {
  const row = matchToken(index, token)
  if ('error' in row) return { ok: false, reason: row.error }
  const name = `token ${row.id} of ${row.user_id}`
  if (row.ended_at) return { ok: false, reason: `${name} was logged out at ${row.ended_at}` }
  if (!index.users.has(row.user_id)) return { ok: false, reason: `${name}: the user no longer exists` }
  if (nowMs >= Date.parse(row.expires_at))
    return { ok: false, reason: `${name} expired at ${row.expires_at}` }
  const lastUsed = Math.max(Date.parse(row.last_used_at), lastUsedMs)
  if (nowMs >= lastUsed + row.idle_timeout_seconds * 1000) {
    return {
      ok: false,
      reason: `${name} timed out after ${row.idle_timeout_seconds} s without use (last used ${new Date(lastUsed).toISOString()})`,
    }
  }
  return { ok: true, token: row, lastUsedMs: lastUsed }
}
