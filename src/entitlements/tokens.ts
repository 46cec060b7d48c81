import { hash, randomBytes } from 'node:crypto'
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

export const hashTokenSecret = (secret: string) => hash('sha256', secret, 'hex')

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

/** `lastUsedMs`: the token's latest use known here; `storedUseMs`: the one the store holds. */
export type TokenCheck =
  | { ok: true; token: AccessTokenRow; lastUsedMs: number; storedUseMs: number }
  | { ok: false; reason: string }

/** Equal strings, compared in a time that depends on their length only (public: a digest's, a secret's). */
export const sameInConstantTime = (a: string, b: string): boolean => endsWithInConstantTime(a, 0, b)

/** Is `text` from `start` on equal to `expected`? In constant time, as above, without slicing `text`. */
function endsWithInConstantTime(text: string, start: number, expected: string): boolean {
  const length = expected.length
  if (text.length - start !== length) return false
  let difference = 0
  for (let i = 0; i < length; i++) difference |= text.charCodeAt(start + i) ^ expected.charCodeAt(i)
  return difference === 0
}

/** A token whose secret was verified against its stored hash, with its times parsed once. */
interface Verified {
  row: AccessTokenRow
  secret: string
  expiresMs: number
  storedUseMs: number
}

/**
 * Secrets already verified against their stored hash, by token id, so that a token presented again is
 * compared (in constant time) with the secret that matched instead of hashed again. An entry holds only while
 * the stored hash is the one it was verified against; only verified secrets enter, at most `limit` of them
 * (the oldest leave first). Why keeping them in memory is acceptable: SECURITY.md, "Access tokens".
 */
export class VerifiedTokens {
  readonly #byId = new Map<string, Verified>()
  readonly #limit: number

  constructor(limit = 100_000) {
    this.#limit = limit
  }

  /** The entry verified against `row`'s hash, its times brought up to date with `row`. */
  lookup(row: AccessTokenRow): Verified | undefined {
    const entry = this.#byId.get(row.id)
    if (!entry || entry.row === row) return entry
    if (entry.row.secret_hash !== row.secret_hash) {
      this.#byId.delete(row.id)
      return undefined
    }
    entry.row = row
    entry.expiresMs = Date.parse(row.expires_at)
    entry.storedUseMs = Date.parse(row.last_used_at)
    return entry
  }

  remember(row: AccessTokenRow, secret: string): Verified {
    if (this.#byId.size >= this.#limit) {
      const oldest = this.#byId.keys().next()
      if (!oldest.done) this.#byId.delete(oldest.value)
    }
    const entry = {
      row,
      secret,
      expiresMs: Date.parse(row.expires_at),
      storedUseMs: Date.parse(row.last_used_at),
    }
    this.#byId.set(row.id, entry)
    return entry
  }

  get size(): number {
    return this.#byId.size
  }
}

const UNKNOWN_HASH = '0'.repeat(64)

/** `token`'s stored record and its parsed times, if its secret matches; compared in constant time. */
function verify(
  index: EntitlementIndex,
  token: string,
  verified: VerifiedTokens | undefined,
): Verified | { error: string } {
  if (token === '') return { error: 'no access token was given (it is empty)' }
  const dot = token.startsWith(PREFIX) ? token.indexOf('.', PREFIX.length) : -1
  // An empty id or secret is malformed, as parseToken says.
  if (dot <= PREFIX.length || dot === token.length - 1)
    return { error: 'the access token is malformed: expected cst_<id>.<secret>' }
  const id = token.slice(PREFIX.length, dot)
  const row = index.tokens.get(id)
  const known = row && verified?.lookup(row)
  // The secret compared where it stands in the token: no copy of it on the common path.
  if (known) return endsWithInConstantTime(token, dot + 1, known.secret) ? known : unknown(id)
  const secret = token.slice(dot + 1)
  // Compare even when the id is unknown, so timing does not tell which ids exist.
  const given = hashTokenSecret(secret)
  if (!sameInConstantTime(given, row?.secret_hash ?? UNKNOWN_HASH) || !row) return unknown(id)
  return verified
    ? verified.remember(row, secret)
    : {
        row,
        secret,
        expiresMs: Date.parse(row.expires_at),
        storedUseMs: Date.parse(row.last_used_at),
      }
}

const unknown = (id: string) => ({ error: `token ${id} is not known` })

/** The stored record `token` belongs to, if its secret matches; compared in constant time. */
export function matchToken(
  index: EntitlementIndex,
  token: string,
  verified?: VerifiedTokens,
): AccessTokenRow | { error: string } {
  const match = verify(index, token, verified)
  return 'error' in match ? match : match.row
}

/**
 * Is `token` usable at `nowMs`? `lastUse` is this node's memory of tokens' latest uses by id, which may be
 * fresher than the stored `last_used_at` (uses are written back lazily). `verified` spares re-hashing a
 * secret already verified.
 */
export function validateToken(
  index: EntitlementIndex,
  token: string,
  nowMs: number,
  lastUse?: ReadonlyMap<string, number>,
  verified?: VerifiedTokens,
): TokenCheck {
  const match = verify(index, token, verified)
  if ('error' in match) return { ok: false, reason: match.error }
  const { row } = match
  const lastUsedMs = lastUse?.get(row.id) ?? 0
  if (row.ended_at)
    return { ok: false, reason: `token ${row.id} of ${row.user_id} was logged out at ${row.ended_at}` }
  if (!index.users.has(row.user_id))
    return { ok: false, reason: `token ${row.id} of ${row.user_id}: the user no longer exists` }
  if (nowMs >= match.expiresMs)
    return { ok: false, reason: `token ${row.id} of ${row.user_id} expired at ${row.expires_at}` }
  const lastUsed = match.storedUseMs > lastUsedMs ? match.storedUseMs : lastUsedMs
  if (nowMs >= lastUsed + row.idle_timeout_seconds * 1000) {
    return {
      ok: false,
      reason: `token ${row.id} of ${row.user_id} timed out after ${row.idle_timeout_seconds} s without use (last used ${new Date(lastUsed).toISOString()})`,
    }
  }
  return { ok: true, token: row, lastUsedMs: lastUsed, storedUseMs: match.storedUseMs }
}
