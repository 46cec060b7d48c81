import forge from 'node-forge'
import { beforeAll, describe, expect, it } from 'vitest'
import { defaultConfig } from '../../src/config.js'
import { delegationLimits } from '../../src/trust/delegation-limits.js'
import { parseEvidence } from '../../src/trust/delegation-shapes.js'
import { signEvidence, type VerifyOptions, verifyEvidence } from '../../src/trust/evidence-token.js'
import { currentPolicy } from '../support/ishare.js'
import { type IssueOptions, issue, material, type TestPki, testPki } from '../support/test-pki.js'

const OWNER = 'EU.EORI.NL000000003'
const PROVIDER = 'EU.EORI.NL000000004'

/** What verifyEvidence refuses in the signing certificate and its chain, beyond the forged-evidence attacks. */
describe('the certificates signed evidence is verified with', () => {
  let pki: TestPki
  beforeAll(() => {
    pki = testPki()
  })
  const now = () => Math.floor(Date.now() / 1000)
  const options = (): VerifyOptions => {
    const used = new Set<string>()
    return {
      trustedRoots: [pki.root.pem],
      audience: PROVIDER,
      trustedRegisters: [],
      nowSeconds: now(),
      clockSkewSeconds: 10,
      limits: delegationLimits(defaultConfig()),
      claimJti: async (issuer, jti) => !used.has(`${issuer} ${jti}`) && Boolean(used.add(`${issuer} ${jti}`)),
    }
  }
  /** The owner's evidence signed with a certificate made with `changes`, at `iat`: what verification says. */
  const verdict = async (changes: Partial<IssueOptions>, iat = now()) => {
    const signer = pki.participant(OWNER, changes)
    const token = await signEvidence(
      material(signer),
      OWNER,
      PROVIDER,
      parseEvidence(currentPolicy('case2_policy.json')),
      iat,
    )
    return verifyEvidence(token, options()).then(
      ({ evidence }) => `accepted ${evidence.policyIssuer}`,
      (error: Error) => error.message,
    )
  }
  const subject = `CN=Participant ${OWNER}\nserialNumber=${OWNER}`

  it('accepts the owner’s own certificate, with or without a keyUsage allowing signatures', async () => {
    expect(await verdict({})).toBe(`accepted ${OWNER}`)
    expect(await verdict({ keyUsage: { digitalSignature: true } })).toBe(`accepted ${OWNER}`)
  })

  it('refuses a signing certificate whose keyUsage does not allow signatures', async () => {
    expect(await verdict({ keyUsage: { keyCertSign: true } })).toBe(
      `certificate 0 of the chain (${subject}) may not sign: its keyUsage lacks digitalSignature`,
    )
  })

  it('refuses a certificate with a critical extension it does not understand', async () => {
    const unknown = {
      id: '1.3.6.1.4.1.99999.1',
      critical: true,
      value: forge.asn1.toDer(forge.asn1.create(0, 5, false, '')).getBytes(),
    }
    expect(await verdict({ extensions: [unknown] })).toBe(
      `certificate 0 of the chain (${subject}) has a critical extension not understood here: 1.3.6.1.4.1.99999.1`,
    )
  })

  it('refuses a certificate naming no party, or more than one', async () => {
    expect(await verdict({ party: undefined })).toBe(
      "the signing certificate must name one party (its subject's serialNumber); it names 0",
    )
    expect(await verdict({ parties: [OWNER, 'EU.EORI.NL000000005'] })).toMatch(/; it names 2$/)
  })

  it('refuses evidence signed before, or after, its certificate was valid', async () => {
    const iat = now() - 20
    expect(await verdict({ notBefore: new Date((iat + 15) * 1000) }, iat)).toBe(
      `certificate 0 of the chain (${subject}) was not valid when the JWT was signed (iat ${iat})`,
    )
    expect(await verdict({ notBefore: new Date(Date.now() + 60_000) })).toBe(
      `certificate 0 of the chain (${subject}) is not valid now`,
    )
  })

  it('refuses a chain through an intermediate that may not issue certificates', async () => {
    const signingOnly = issue({
      commonName: 'Signing-only CA',
      issuer: pki.root,
      ca: { cA: true },
      keyUsage: { digitalSignature: true },
    })
    const signer = issue({ commonName: 'Warehouse 13', party: OWNER, issuer: signingOnly })
    const token = await signEvidence(
      material(signer),
      OWNER,
      PROVIDER,
      parseEvidence(currentPolicy('case2_policy.json')),
      now(),
    )
    // node:crypto's checkIssued already refuses an issuer whose keyUsage lacks keyCertSign.
    await expect(verifyEvidence(token, options())).rejects.toThrow(
      'certificate 0 of the chain is not issued and signed by certificate 1',
    )
  })
})
