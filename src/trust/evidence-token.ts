import { randomUUID, X509Certificate } from 'node:crypto'
import { decodeProtectedHeader, importPKCS8, errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import forge from 'node-forge'
import { type DelegationEvidence, parseEvidence, ShapeError } from './delegation.js'

/**
 * Delegation evidence as iSHARE sends it: a JWT signed RS256, its certificate chain in `x5c`, valid 30 s.
 * Signing for the register's answers, verifying for evidence a data request carries (pattern 2).
 */
export const EVIDENCE_LIFETIME_SECONDS = 30

export interface SigningMaterial {
  /** PKCS#8 PEM. */
  key: string
  /** PEM certificates, the signing certificate first, the root last. */
  chain: string[]
}

const pemBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '')
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
          cert.setExtensions(extensions)
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

/** Signs `evidence` for `audience`, as the register `issuer`. */
export async function signEvidence(
  material: SigningMaterial,
  issuer: string,
  audience: string,
  evidence: DelegationEvidence,
  nowSeconds: number,
): Promise<string> {
  const key = await importPKCS8(material.key, 'RS256')
  return new SignJWT({ delegationEvidence: evidence })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5c: material.chain.map(pemBody) })
    .setIssuer(issuer)
    .setSubject(issuer)
    .setAudience(audience)
    .setJti(randomUUID())
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + EVIDENCE_LIFETIME_SECONDS)
    .sign(key)
}

export class EvidenceRefused extends Error {}

export interface VerifyOptions {
  /** PEM root certificates; the x5c chain must end at one of them. */
  trustedRoots: readonly string[]
  /** Who the evidence must be addressed to (the data service provider checking it). */
  audience: string
  /**
   * Who must have signed it (a register, or the data owner): its `iss`. Empty: whoever the signing
   * certificate names (its serialNumber, as iSHARE certificates carry the party id, else its CN).
   */
  issuers: readonly string[]
  nowSeconds: number
}

/**
 * Verifies signed delegation evidence: RS256 only, an x5c chain whose every link is issued and signed by the
 * next and valid now, ending at a trusted root; then the signature, issuer, audience and lifetime of the JWT;
 * then the evidence itself, in shape and in time. Returns the evidence, or throws `EvidenceRefused` saying why.
 */
export async function verifyEvidence(token: string, options: VerifyOptions): Promise<DelegationEvidence> {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(token)
  } catch {
    throw new EvidenceRefused('not a JWT')
  }
  if (header.alg !== 'RS256')
    throw new EvidenceRefused(`alg ${String(header.alg)} is refused: only RS256 is accepted`)
  if (!Array.isArray(header.x5c) || header.x5c.length === 0)
    throw new EvidenceRefused('the JWT carries no x5c certificate chain')
  let chain: X509Certificate[]
  try {
    chain = header.x5c.map((der) => new X509Certificate(Buffer.from(der, 'base64')))
  } catch {
    throw new EvidenceRefused('the x5c chain holds something that is not a certificate')
  }
  const at = new Date(options.nowSeconds * 1000)
  for (const [i, cert] of chain.entries()) {
    if (at < new Date(cert.validFrom) || at > new Date(cert.validTo))
      throw new EvidenceRefused(`certificate ${i} of the chain (${cert.subject}) is not valid now`)
    const issuer = chain[i + 1]
    if (issuer && !(cert.checkIssued(issuer) && cert.verify(issuer.publicKey)))
      throw new EvidenceRefused(
        `certificate ${i} of the chain is not issued and signed by certificate ${i + 1}`,
      )
  }
  const last = chain.at(-1) as X509Certificate
  const anchored = options.trustedRoots.some((pem) => {
    const root = new X509Certificate(pem)
    return (
      last.fingerprint256 === root.fingerprint256 || (last.checkIssued(root) && last.verify(root.publicKey))
    )
  })
  if (!anchored) throw new EvidenceRefused('the certificate chain does not end at a trusted root')
  const leaf = chain[0] as X509Certificate
  const named =
    /(?:^|\n)serialNumber=([^\n]+)/.exec(leaf.subject)?.[1] ?? /(?:^|\n)CN=([^\n]+)/.exec(leaf.subject)?.[1]
  const issuers = options.issuers.length > 0 ? [...options.issuers] : named ? [named] : []
  if (issuers.length === 0) throw new EvidenceRefused('the signing certificate names no party')
  let payload: Record<string, unknown>
  try {
    ;({ payload } = await jwtVerify(token, leaf.publicKey, {
      algorithms: ['RS256'],
      audience: options.audience,
      issuer: issuers,
      currentDate: at,
      requiredClaims: ['iat', 'exp'],
    }))
  } catch (error) {
    if (error instanceof joseErrors.JOSEError)
      throw new EvidenceRefused(`the JWT is refused: ${error.message}`)
    throw error
  }
  if (
    typeof payload.exp === 'number' &&
    typeof payload.iat === 'number' &&
    payload.exp - payload.iat > EVIDENCE_LIFETIME_SECONDS
  )
    throw new EvidenceRefused(
      `the JWT lives ${payload.exp - payload.iat} s; delegation evidence lives at most 30 s`,
    )
  let evidence: DelegationEvidence
  try {
    evidence = parseEvidence(payload)
  } catch (error) {
    if (error instanceof ShapeError) throw new EvidenceRefused(`the evidence is malformed: ${error.message}`)
    throw error
  }
  if (options.nowSeconds < evidence.notBefore || options.nowSeconds >= evidence.notOnOrAfter)
    throw new EvidenceRefused(
      `the evidence is valid from ${evidence.notBefore} until ${evidence.notOnOrAfter}, not now`,
    )
  return evidence
}
