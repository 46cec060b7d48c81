import { beforeAll, describe, expect, it } from 'vitest'
import { ishareJson } from '../../test/support/ishare.js'
import { defaultConfig } from '../config.js'
import { delegationLimits } from './delegation-limits.js'
import { parseEvidence } from './delegation-shapes.js'
import {
  developmentMaterial,
  EvidenceRefused,
  type SigningMaterial,
  signEvidence,
  type VerifyOptions,
  verifyEvidence,
} from './evidence-token.js'

const evidence = parseEvidence(ishareJson('policies/AR.HAPPYFLOW1.json'))
// The development certificates are made now, and this policy runs until 2038.
const NOW = Math.floor(Date.now() / 1000)
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const parts = (jwt: string) => jwt.split('.') as [string, string, string]

describe('signed delegation evidence', () => {
  let register: SigningMaterial
  let stranger: SigningMaterial
  beforeAll(async () => {
    ;[register, stranger] = await Promise.all([
      developmentMaterial('EU.EORI.REGISTER'),
      developmentMaterial('EU.EORI.STRANGER'),
    ])
  })
  const options = (): VerifyOptions => {
    // Each verification with a replay cache of its own: replays are test/security/forged-evidence.test.ts's.
    const used = new Set<string>()
    return {
      trustedRoots: [register.chain.at(-1) as string],
      audience: 'EU.EORI.NL000000003',
      trustedRegisters: ['EU.EORI.REGISTER'],
      nowSeconds: NOW,
      clockSkewSeconds: 10,
      limits: delegationLimits(defaultConfig()),
      claimJti: async (issuer, jti) => !used.has(`${issuer} ${jti}`) && Boolean(used.add(`${issuer} ${jti}`)),
    }
  }
  const signed = () => signEvidence(register, 'EU.EORI.REGISTER', 'EU.EORI.NL000000003', evidence, NOW)
  const refusal = async (token: string, changes: Partial<ReturnType<typeof options>> = {}) => {
    const error = await verifyEvidence(token, { ...options(), ...changes }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(EvidenceRefused)
    return (error as Error).message
  }

  it('signs RS256 with the x5c chain, for 30 seconds, and verifies what it signed', async () => {
    const token = await signed()
    const header = JSON.parse(Buffer.from(parts(token)[0], 'base64url').toString()) as {
      alg: string
      x5c: string[]
    }
    expect(header.alg).toBe('RS256')
    expect(header.x5c).toHaveLength(2)
    const payload = JSON.parse(Buffer.from(parts(token)[1], 'base64url').toString()) as Record<string, number>
    expect((payload.exp as number) - (payload.iat as number)).toBe(30)
    expect(await verifyEvidence(token, options())).toEqual({ evidence, signer: 'EU.EORI.REGISTER' })
  })

  it('refuses signed evidence larger than stored evidence may be', async () => {
    const [policySet] = evidence.policySets
    const policies = Array.from({ length: 101 }, () => policySet?.policies[0])
    const large = { ...evidence, policySets: [{ ...policySet, policies }] } as typeof evidence
    const token = await signEvidence(register, 'EU.EORI.REGISTER', 'EU.EORI.NL000000003', large, NOW)
    expect(await refusal(token)).toMatch(
      /has 101 policies, more than the 100 allowed \(the limit maxPolicies/,
    )
  })

  it('refuses a forged payload under a genuine signature', async () => {
    const [header, payload, signature] = parts(await signed())
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString())
    claims.delegationEvidence.target.accessSubject = 'EU.EORI.NL666666666'
    expect(await refusal(`${header}.${b64(claims)}.${signature}`)).toMatch(
      /^the JWT is refused: signature verification failed/,
    )
  })

  it('refuses evidence signed by another key than the certificate it shows', async () => {
    const other = await signEvidence(stranger, 'EU.EORI.REGISTER', 'EU.EORI.NL000000003', evidence, NOW)
    const [, payload, signature] = parts(other)
    const [header] = parts(await signed())
    expect(await refusal(`${header}.${payload}.${signature}`)).toMatch(/signature verification failed/)
  })

  it('refuses alg none', async () => {
    const [header, payload] = parts(await signed())
    const none = { ...JSON.parse(Buffer.from(header, 'base64url').toString()), alg: 'none' }
    expect(await refusal(`${b64(none)}.${payload}.`)).toBe('alg none is refused: only RS256 is accepted')
  })

  it('refuses a chain that does not verify, or that ends at a root nobody trusts', async () => {
    const token = await signed()
    const [header, payload, signature] = parts(token)
    const decoded = JSON.parse(Buffer.from(header, 'base64url').toString()) as { x5c: string[] }
    // The register's own certificate presented as issued by the stranger's root.
    const strangerRoot = (stranger.chain.at(-1) as string).replace(
      /-----(BEGIN|END) CERTIFICATE-----|\s/g,
      '',
    )
    const spliced = { ...decoded, x5c: [decoded.x5c[0], strangerRoot] }
    expect(await refusal(`${b64(spliced)}.${payload}.${signature}`)).toBe(
      'certificate 0 of the chain is not issued and signed by certificate 1',
    )
    const strangers = await signEvidence(stranger, 'EU.EORI.REGISTER', 'EU.EORI.NL000000003', evidence, NOW)
    expect(await refusal(strangers)).toBe('the certificate chain does not end at a trusted root')
  })

  it('refuses expired tokens and evidence, and evidence meant for someone else', async () => {
    const token = await signed()
    expect(await refusal(token, { nowSeconds: NOW + 31 })).toMatch(
      /^the JWT is refused: "exp" claim timestamp check failed/,
    )
    expect(await refusal(token, { audience: 'EU.EORI.NL000000009' })).toMatch(
      /^the JWT is refused: unexpected "aud" claim value/,
    )
    // iss is the party the signing certificate names, none other.
    const someone = await signEvidence(register, 'EU.EORI.SOMEONE', 'EU.EORI.NL000000003', evidence, NOW)
    expect(await refusal(someone)).toBe(
      "the JWT's iss EU.EORI.SOMEONE is not the party its signing certificate names (EU.EORI.REGISTER)",
    )
    const late = await signEvidence(
      register,
      'EU.EORI.REGISTER',
      'EU.EORI.NL000000003',
      { ...evidence, notOnOrAfter: NOW },
      NOW,
    )
    expect(await refusal(late)).toBe(`the evidence is valid from ${evidence.notBefore} until ${NOW}, not now`)
  })
})
