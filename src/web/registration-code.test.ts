import { describe, expect, it } from 'vitest'
import { codeMatches, newCode, sealCode } from './registration-code.js'

describe('one-time registration codes', () => {
  const key = 'k'.repeat(43)
  const claim = { interaction: 'uid-1', accountNumber: 'ACCT-1', code: '012345' }
  const now = 1_000_000
  const seal = sealCode(key, claim, now + 600_000)

  it('are six digits', () => {
    for (let i = 0; i < 20; i++) expect(newCode()).toMatch(/^\d{6}$/)
  })

  it('match only the code, interaction and account number they were sealed for, until they expire', () => {
    expect(codeMatches(key, claim, seal, now)).toBe(true)
    expect(codeMatches(key, { ...claim, code: '012346' }, seal, now)).toBe(false)
    expect(codeMatches(key, { ...claim, interaction: 'uid-2' }, seal, now)).toBe(false)
    expect(codeMatches(key, { ...claim, accountNumber: 'ACCT-2' }, seal, now)).toBe(false)
    expect(codeMatches('other key', claim, seal, now)).toBe(false)
    expect(codeMatches(key, claim, seal, now + 600_000)).toBe(false)
  })

  it('refuse a seal whose expiry was moved or that is not one', () => {
    const [, signature] = seal.split('.')
    expect(codeMatches(key, claim, `${now + 9_999_999}.${signature}`, now)).toBe(false)
    for (const bad of ['', '.', 'x.y', `${now + 1}`]) expect(codeMatches(key, claim, bad, now)).toBe(false)
  })
})
