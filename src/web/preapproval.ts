import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * What a customer chose on the 3rd Party Access page before being sent on to the third party: carried in a
 * signed, short-lived cookie to the consent page, which it pre-fills when the third party comes back with
 * an authorization request. It grants nothing by itself. Pure.
 */
export const PREAPPROVAL_COOKIE = 'custodian_preapproval'
export const PREAPPROVAL_SECONDS = 900

export interface PreApproval {
  clientId: string
  customerId: string
  usagePointIds: string[]
  periodEnd: string
  expiresAt: number
}

const mac = (key: string, body: string) =>
  createHmac('sha256', key).update(`preapproval:${body}`).digest('base64url')

export function sealPreApproval(key: string, value: PreApproval): string {
  const body = Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${body}.${mac(key, body)}`
}

export function openPreApproval(
  key: string,
  sealed: string | undefined,
  nowMs: number,
): PreApproval | undefined {
  if (!sealed) return undefined
  const [body = '', signature = ''] = sealed.split('.')
  const expected = Buffer.from(mac(key, body))
  const given = Buffer.from(signature)
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined
  try {
    const value = JSON.parse(Buffer.from(body, 'base64url').toString()) as PreApproval
    return value.expiresAt > nowMs ? value : undefined
  } catch {
    return undefined
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return decodeURIComponent(value.join('='))
  }
  return undefined
}
