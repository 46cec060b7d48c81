import { createHmac, randomInt, timingSafeEqual } from 'node:crypto'

/**
 * The one-time code a customer without an online account receives by email to prove who they are. The
 * server keeps nothing: the page carries a seal binding the code to the OAuth interaction, the account
 * number typed and an expiry, under a key of the store's. The same seal is made for an account number that
 * is not ours, so the page says nothing about which are. Pure, but for the random code.
 */
export const CODE_SECONDS = 600

export interface CodeClaim {
  interaction: string
  accountNumber: string
  code: string
}

const mac = (key: string, claim: CodeClaim, expiresAt: number) =>
  createHmac('sha256', key)
    .update(JSON.stringify(['registration', claim.interaction, claim.accountNumber, claim.code, expiresAt]))
    .digest('base64url')

/** Six digits, leading zeros kept. */
export const newCode = () => String(randomInt(1_000_000)).padStart(6, '0')

export function sealCode(key: string, claim: CodeClaim, expiresAt: number): string {
  return `${expiresAt}.${mac(key, claim, expiresAt)}`
}

/** Is `claim` the code the seal was made for, for the same interaction and account number, and still alive? */
export function codeMatches(key: string, claim: CodeClaim, seal: string, nowMs: number): boolean {
  const [expiry = '', signature = ''] = seal.split('.')
  const expiresAt = Number(expiry)
  if (!/^\d+$/.test(expiry) || expiresAt <= nowMs) return false
  const expected = Buffer.from(mac(key, claim, expiresAt))
  const given = Buffer.from(signature)
  return expected.length === given.length && timingSafeEqual(expected, given)
}
