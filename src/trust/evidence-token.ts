import { X509Certificate } from 'node:crypto'
import forge from 'node-forge'
import { isCustodianError } from '../errors.js'
import { readCertificate } from './certificate-path.js'
import { checkDelegationSize, type DelegationLimits } from './delegation-limits.js'
import { type DelegationEvidence, parseEvidence, ShapeError } from './delegation-shapes.js'
import {
  type PartyJwtOptions,
  SignedJwtRefused,
  type SigningMaterial,
  signPartyJwt,
  verifyPartyJwt,
} from './ishare-jwt.js'

export type { SigningMaterial }

/**
 * Delegation evidence as iSHARE sends it: a JWT signed RS256, its certificate chain in `x5c`, valid 30 s.
 * Signing for the register's answers, verifying for evidence a data request carries (pattern 2).
 */
export const EVIDENCE_LIFETIME_SECONDS = 30

/** The certificates of a PEM file, in order. */
export const certificatesOf = (pem: string): string[] =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => m[0])

/**
 * A development root and signing certificate, for a server nobody has given a key yet. Evidence it signs
 * verifies only where this root is trusted; production configures its own (see the delegation settings).
 * (node-forge makes them: Node's crypto can read certificates but not issue them.)
 */
export function developmentMaterial(registerId: string): Promise<SigningMaterial> {
  return new Promise((resolve, reject) => {
    const { pki } = forge
    pki.rsa.generateKeyPair({ bits: 2048, workers: -1 }, (error, rootKeys) => {
      if (error) return reject(error)
      pki.rsa.generateKeyPair({ bits: 2048, workers: -1 }, (error2, keys) => {
        if (error2) return reject(error2)
        const certificate = (
          serial: string,
          subject: forge.pki.CertificateField[],
          issuer: forge.pki.CertificateField[],
          publicKey: forge.pki.PublicKey,
          extensions: object[],
        ) => {
          const cert = pki.createCertificate()
          cert.serialNumber = serial
          cert.publicKey = publicKey
          cert.validity.notBefore = new Date(Date.now() - 60_000)
          cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86_400_000)
          cert.setSubject(subject)
          cert.setIssuer(issuer)
          // Key identifiers link each certificate to its issuer's key (the root's own: forge's SKI, SHA-1 of
          // the RSAPublicKey), as strict path builders ask.
          cert.setExtensions([
            ...extensions,
            { name: 'subjectKeyIdentifier' },
            {
              name: 'authorityKeyIdentifier',
              keyIdentifier: pki
                .getPublicKeyFingerprint(rootKeys.publicKey, { type: 'RSAPublicKey' })
                .getBytes(),
            },
          ])
          cert.sign(rootKeys.privateKey, forge.md.sha256.create())
          return pki.certificateToPem(cert)
        }
        const rootName = [{ name: 'commonName', value: `Custodian development root for ${registerId}` }]
        const root = certificate('01', rootName, rootName, rootKeys.publicKey, [
          { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
          { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        ])
        const leaf = certificate(
          '02',
          [
            { name: 'commonName', value: registerId },
            { name: 'serialNumber', value: registerId },
          ],
          rootName,
          keys.publicKey,
          [{ name: 'keyUsage', digitalSignature: true, critical: true }],
        )
        resolve({
          key: pki.privateKeyInfoToPem(pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(keys.privateKey))),
          chain: [leaf, root],
        })
      })
    })
  })
}

/** The parties a PEM certificate names as signer: its subject's serialNumber attributes (iSHARE's party id). */
export const signingParties = (pem: string): string[] =>
  readCertificate(new X509Certificate(pem).raw).serialNumbers

/** Signs `evidence` for `audience`, as the register `issuer`. */
export const signEvidence = (
  material: SigningMaterial,
  issuer: string,
  audience: string,
  evidence: DelegationEvidence,
  nowSeconds: number,
): Promise<string> =>
  signPartyJwt(
    material,
    { delegationEvidence: evidence },
    { issuer, audience, nowSeconds, lifetimeSeconds: EVIDENCE_LIFETIME_SECONDS },
  )

/** Evidence refused: the refusal of any party's JWT (see ishare-jwt.ts). */
export { SignedJwtRefused as EvidenceRefused }

/** `audience`: the data service provider checking the evidence. */
export interface VerifyOptions extends Omit<PartyJwtOptions, 'maxLifetime'> {
  /**
   * Registers whose signature speaks for others. Anyone else signs only its own evidence: the signer (the
   * party its certificate names, and the JWT's `iss`) must be the evidence's policyIssuer.
   */
  trustedRegisters: readonly string[]
  /** Whose evidence is wanted: its policyIssuer must be one of these. Unset: anyone's. */
  policyIssuers?: readonly string[]
  /** Only a trusted register's signature will do, not the policy issuer's own. */
  registersOnly?: boolean
  /** How large the evidence may be: signed or not, it is evaluated like stored evidence. */
  limits: DelegationLimits
  /**
   * Records the JWT's id as used until `expiresAtMs`; false when it already was: a replay (see
   * store/replay-store.ts). Asked last, once everything else is accepted.
   */
  claimJti: (issuer: string, jti: string, expiresAtMs: number) => Promise<boolean>
}

/**
 * Verifies signed delegation evidence: RS256 only; an x5c chain validated as RFC 5280 asks (every link
 * issued and signed by the next, valid now and when signed, issuers CAs within their path length and key
 * usage) up to a trusted root; the signature; `iss` the party the signing certificate names (its subject's
 * serialNumber); audience, lifetime (`iat` not ahead of now, at most 30 s) and a `jti` not seen before; then
 * the evidence, in shape and in time, issued by its signer or signed by a trusted register. Returns the
 * evidence and its signer (whose standing the caller asks of the participant register: party-standing.ts),
 * or throws `EvidenceRefused` saying why.
 */
export async function verifyEvidence(
  token: string,
  options: VerifyOptions,
): Promise<{ evidence: DelegationEvidence; signer: string }> {
  const { payload, signer } = await verifyPartyJwt(token, {
    ...options,
    maxLifetime: { seconds: EVIDENCE_LIFETIME_SECONDS, what: 'delegation evidence' },
  })
  const { exp, jti } = payload
  const now = options.nowSeconds
  try {
    checkDelegationSize(payload, options.limits)
  } catch (error) {
    if (isCustodianError(error)) throw new SignedJwtRefused(error.message)
    throw error
  }
  let evidence: DelegationEvidence
  try {
    evidence = parseEvidence(payload)
  } catch (error) {
    if (error instanceof ShapeError) throw new SignedJwtRefused(`the evidence is malformed: ${error.message}`)
    throw error
  }
  const issuer = evidence.policyIssuer
  const register = options.trustedRegisters.includes(signer)
  if (issuer !== signer && !register)
    throw new SignedJwtRefused(
      `the evidence is issued by ${issuer} but signed by ${signer}, which is not a register trusted to sign for others`,
    )
  if (options.registersOnly && !register)
    throw new SignedJwtRefused(`the evidence is signed by ${signer}, not by a register trusted here`)
  if (options.policyIssuers && !options.policyIssuers.includes(issuer))
    throw new SignedJwtRefused(
      `the evidence is issued by ${issuer}; only evidence of ${options.policyIssuers.join(' or ')} is accepted here`,
    )
  if (now < evidence.notBefore || now >= evidence.notOnOrAfter)
    throw new SignedJwtRefused(
      `the evidence is valid from ${evidence.notBefore} until ${evidence.notOnOrAfter}, not now`,
    )
  // Kept past exp by the skew, so that a node whose clock runs behind still sees the token as used.
  if (!(await options.claimJti(signer, jti, (exp + options.clockSkewSeconds) * 1000)))
    throw new SignedJwtRefused(`the JWT's jti ${jti} of ${signer} was used before: evidence is accepted once`)
  return { evidence, signer }
}
