import { generateKeyPairSync } from 'node:crypto'
import forge from 'node-forge'
import type { SigningMaterial } from '../../src/trust/evidence-token.js'

/**
 * A small PKI for tests of signed evidence: a root, an intermediate CA below it (path length 0), and the
 * certificates the tests need below those, each named as iSHARE names parties (subject serialNumber).
 */
export interface Issued {
  pem: string
  cert: forge.pki.Certificate
  /** PKCS#8 PEM. */
  key: string
  privateKey: forge.pki.rsa.PrivateKey
  /** PEM certificates from this one up to the root. */
  chain: string[]
}

export interface IssueOptions {
  /** The subject's serialNumber, the party id; none when undefined. */
  party?: string
  commonName: string
  /** Undefined: self-signed (a root). */
  issuer?: Issued
  /** basicConstraints; undefined: no such extension. */
  ca?: { cA: boolean; pathLen?: number }
  /** keyUsage; undefined: no such extension. */
  keyUsage?: { digitalSignature?: boolean; keyCertSign?: boolean }
  /** Further extensions, as node-forge takes them. */
  extensions?: object[]
  /** The subject's serialNumber attributes, when not one (`party`). */
  parties?: string[]
  notBefore?: Date
  notAfter?: Date
}

let serial = 0x1000

export function issue(options: IssueOptions): Issued {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pem = (key: { export(o: object): string | Buffer }, type: string) =>
    String(key.export({ type, format: 'pem' }))
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(pem(publicKey, 'spki'))
  cert.serialNumber = (serial++).toString(16)
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - 3_600_000)
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86_400_000)
  const subject = [
    { name: 'commonName', value: options.commonName },
    ...(options.parties ?? (options.party ? [options.party] : [])).map((value) => ({
      name: 'serialNumber',
      value,
    })),
  ]
  cert.setSubject(subject)
  cert.setIssuer(options.issuer ? options.issuer.cert.subject.attributes : subject)
  cert.setExtensions([
    ...(options.ca
      ? [
          {
            name: 'basicConstraints',
            critical: true,
            cA: options.ca.cA,
            ...(options.ca.pathLen === undefined ? {} : { pathLenConstraint: options.ca.pathLen }),
          },
        ]
      : []),
    ...(options.keyUsage ? [{ name: 'keyUsage', critical: true, ...options.keyUsage }] : []),
    ...(options.extensions ?? []),
  ])
  const own = forge.pki.privateKeyFromPem(pem(privateKey, 'pkcs1')) as forge.pki.rsa.PrivateKey
  cert.sign(options.issuer?.privateKey ?? own, forge.md.sha256.create())
  const certPem = forge.pki.certificateToPem(cert)
  return {
    pem: certPem,
    cert,
    key: pem(privateKey, 'pkcs8'),
    privateKey: own,
    chain: [certPem, ...(options.issuer?.chain ?? [])],
  }
}

/** What signs evidence as `issued`: its key, and its chain (root included, as x5c). */
export const material = (issued: Issued): SigningMaterial => ({ key: issued.key, chain: issued.chain })

export interface TestPki {
  root: Issued
  /** A CA below the root that issues participants' certificates only (path length 0). */
  intermediate: Issued
  /** An ordinary participant's signing certificate, below the intermediate. */
  participant(party: string, options?: Partial<IssueOptions>): Issued
}

export function testPki(): TestPki {
  const root = issue({
    commonName: 'Test root CA',
    ca: { cA: true },
    keyUsage: { keyCertSign: true },
  })
  const intermediate = issue({
    commonName: 'Test participant CA',
    issuer: root,
    ca: { cA: true, pathLen: 0 },
    keyUsage: { keyCertSign: true },
  })
  return {
    root,
    intermediate,
    participant: (party, options = {}) =>
      issue({
        commonName: `Participant ${party}`,
        party,
        issuer: intermediate,
        ca: { cA: false },
        ...options,
      }),
  }
}
