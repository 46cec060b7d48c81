import { describe, expect, it } from 'vitest'
import { cookieValue, openPreApproval, type PreApproval, sealPreApproval } from './preapproval.js'

const value: PreApproval = {
  clientId: 'tp',
  customerId: 'rc_1',
  usagePointIds: ['up_1'],
  periodEnd: '2027-01-01',
  expiresAt: 2_000,
}

describe('pre-approvals', () => {
  it('open what was sealed with the same key, before it expires', () => {
    const sealed = sealPreApproval('k', value)
    expect(openPreApproval('k', sealed, 1_000)).toEqual(value)
    expect(openPreApproval('k', sealed, 2_000)).toBeUndefined()
    expect(openPreApproval('other key', sealed, 1_000)).toBeUndefined()
  })

  it('refuse anything altered', () => {
    const [body, signature] = sealPreApproval('k', value).split('.') as [string, string]
    const forged = Buffer.from(JSON.stringify({ ...value, usagePointIds: ['up_2'] })).toString('base64url')
    expect(openPreApproval('k', `${forged}.${signature}`, 1_000)).toBeUndefined()
    expect(openPreApproval('k', `${body}.`, 1_000)).toBeUndefined()
    expect(openPreApproval('k', 'garbage', 1_000)).toBeUndefined()
    expect(openPreApproval('k', undefined, 1_000)).toBeUndefined()
  })

  it('reads one cookie from a header', () => {
    expect(cookieValue('a=1; custodian_preapproval=x%3Dy; b=2', 'custodian_preapproval')).toBe('x=y')
    expect(cookieValue(undefined, 'a')).toBeUndefined()
  })
})
