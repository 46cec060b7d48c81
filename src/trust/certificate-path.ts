import { X509Certificate } from 'node:crypto'
import forge from 'node-forge'

/**
 * Certificate path validation as RFC 5280 asks of an x5c chain: node:crypto checks names and signatures but
 * does not expose basicConstraints' pathLenConstraint or the keyUsage bits, so the extensions are read here
 * with node-forge's ASN.1 parser (which, unlike its certificate parser, reads any key type).
 */
export interface Certificate {
  x509: X509Certificate
  /** basicConstraints cA. */
  ca: boolean
  /** basicConstraints pathLenConstraint; undefined: no limit. */
  pathLen: number | undefined
  /** The keyUsage bits this validator reads; undefined: no keyUsage extension (any use). */
  keyUsage: { digitalSignature: boolean; keyCertSign: boolean } | undefined
  /** The subject's serialNumber attributes: the party id, by iSHARE convention. */
  serialNumbers: string[]
  /** Critical extensions not understood here: RFC 5280 says to refuse the certificate. */
  unknownCritical: string[]
}

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  serialNumber: '2.5.4.5',
}
/** Extensions whose presence changes nothing this validator decides, critical or not. */
const UNDERSTOOD = new Set([
  OID.basicConstraints,
  OID.keyUsage,
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.17', // subjectAltName
  '2.5.29.37', // extKeyUsage
  '2.5.29.32', // certificatePolicies (any policy is acceptable: no policy is required)
])

const { asn1 } = forge
type Node = forge.asn1.Asn1
// BIT STRINGs kept as they are (a keyUsage is not ASN.1 inside); @types/node-forge lacks the option.
const fromDer = (der: string): Node =>
  (asn1 as unknown as { fromDer(der: string, options: object): Node }).fromDer(der, {
    decodeBitStrings: false,
  })
const children = (node: Node | undefined): Node[] => (Array.isArray(node?.value) ? node.value : [])
const bytes = (node: Node | undefined): string => (typeof node?.value === 'string' ? node.value : '')

function text(node: Node | undefined): string | undefined {
  const raw = bytes(node)
  if (node?.type === asn1.Type.UTF8) return Buffer.from(raw, 'binary').toString('utf8')
  if (node?.type === asn1.Type.PRINTABLESTRING || node?.type === asn1.Type.IA5STRING) return raw
  return undefined
}

/** Reads a DER certificate; throws when it is not one. */
export function readCertificate(der: Buffer): Certificate {
  const x509 = new X509Certificate(der)
  const tbs = children(fromDer(der.toString('binary')))[0]
  const fields = children(tbs)
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo: the universal fields, in order.
  const subject = fields.filter((f) => f.tagClass === asn1.Class.UNIVERSAL)[4]
  const serialNumbers = children(subject)
    .flatMap((rdn) => children(rdn))
    .filter((attribute) => asn1.derToOid(bytes(children(attribute)[0])) === OID.serialNumber)
    .map((attribute) => text(children(attribute)[1]) ?? '')
  const extensions = children(
    children(fields.find((f) => f.tagClass === asn1.Class.CONTEXT_SPECIFIC && f.type === 3))[0],
  )
  const certificate: Certificate = {
    x509,
    ca: false,
    pathLen: undefined,
    keyUsage: undefined,
    serialNumbers,
    unknownCritical: [],
  }
  for (const extension of extensions) {
    const parts = children(extension)
    const oid = asn1.derToOid(bytes(parts[0]))
    const critical = parts.length === 3 && bytes(parts[1]) !== '\x00'
    const value = fromDer(bytes(parts.at(-1)))
    if (oid === OID.basicConstraints) {
      const [first, second] = children(value)
      const cA = first?.type === asn1.Type.BOOLEAN ? first : undefined
      const pathLen = cA ? second : first
      certificate.ca = cA !== undefined && bytes(cA) !== '\x00'
      certificate.pathLen =
        pathLen?.type === asn1.Type.INTEGER ? asn1.derToInteger(bytes(pathLen)) : undefined
    } else if (oid === OID.keyUsage) {
      // A BIT STRING: its unused-bit count, then bit 0 (digitalSignature) as the first byte's top bit.
      const first = bytes(value).charCodeAt(1) || 0
      certificate.keyUsage = { digitalSignature: (first & 0x80) !== 0, keyCertSign: (first & 0x04) !== 0 }
    } else if (critical && !UNDERSTOOD.has(oid)) certificate.unknownCritical.push(oid)
  }
  return certificate
}

const validAt = (cert: X509Certificate, seconds: number) =>
  seconds * 1000 >= Date.parse(cert.validFrom) && seconds * 1000 <= Date.parse(cert.validTo)

/**
 * The path from `chain` (signing certificate first) to one of `roots`: every link issued and signed by the
 * next, valid at `nowSeconds`, ending at a root or at a certificate a root issued (the root then joins the
 * path); every issuer a CA allowed to sign certificates within its path length; the signing certificate
 * allowed to sign. Returns the path, or the problem.
 */
export function validatePath(
  chain: readonly Certificate[],
  roots: readonly Certificate[],
  nowSeconds: number,
): { path: Certificate[] } | { problem: string } {
  for (const [i, { x509 }] of chain.entries()) {
    if (!validAt(x509, nowSeconds))
      return { problem: `certificate ${i} of the chain (${x509.subject}) is not valid now` }
    const issuer = chain[i + 1]?.x509
    if (issuer && !(x509.checkIssued(issuer) && x509.verify(issuer.publicKey)))
      return { problem: `certificate ${i} of the chain is not issued and signed by certificate ${i + 1}` }
  }
  const last = chain.at(-1)
  if (!last) return { problem: 'the JWT carries no x5c certificate chain' }
  const path = [...chain]
  if (!roots.some((root) => root.x509.fingerprint256 === last.x509.fingerprint256)) {
    const root = roots.find((r) => last.x509.checkIssued(r.x509) && last.x509.verify(r.x509.publicKey))
    if (!root) return { problem: 'the certificate chain does not end at a trusted root' }
    if (!validAt(root.x509, nowSeconds))
      return { problem: `the trusted root (${root.x509.subject}) is not valid now` }
    path.push(root)
  }
  for (const [i, cert] of path.entries()) {
    const name = `certificate ${i} of the chain (${cert.x509.subject})`
    if (cert.unknownCritical.length > 0)
      return { problem: `${name} has a critical extension not understood here: ${cert.unknownCritical}` }
    if (i === 0) {
      if (cert.keyUsage && !cert.keyUsage.digitalSignature)
        return { problem: `${name} may not sign: its keyUsage lacks digitalSignature` }
      continue
    }
    if (!cert.ca) return { problem: `${name} issues certificate ${i - 1} but is not a CA (basicConstraints)` }
    if (cert.keyUsage && !cert.keyUsage.keyCertSign)
      return { problem: `${name} may not issue certificates: its keyUsage lacks keyCertSign` }
    // Self-issued intermediates (key rollover) do not count against a path length (RFC 5280 4.2.1.9).
    const below = path.slice(1, i).filter((c) => c.x509.subject !== c.x509.issuer).length
    if (cert.pathLen !== undefined && below > cert.pathLen)
      return { problem: `${name} allows ${cert.pathLen} CA certificate(s) below it, the chain has ${below}` }
  }
  return { path }
}

/** The first certificate of `path` not valid at `seconds`, named; else undefined. */
export function invalidAt(path: readonly Certificate[], seconds: number): string | undefined {
  const i = path.findIndex((c) => !validAt(c.x509, seconds))
  return i < 0 ? undefined : `certificate ${i} of the chain (${path[i]?.x509.subject})`
}
