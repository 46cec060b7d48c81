import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, fetch as undiciFetch } from 'undici'
import { issue } from './test-pki.js'

/**
 * A certificate authority of the test's own and a server certificate below it for localhost and
 * 127.0.0.1, written to a temporary folder as `serve --tls-cert --tls-key` takes them, and a fetch that
 * trusts that authority (and no other).
 */
export function localhostCertificate() {
  const root = issue({
    commonName: 'Custodian test CA',
    ca: { cA: true },
    keyUsage: { keyCertSign: true, digitalSignature: true },
  })
  const server = issue({
    commonName: 'localhost',
    issuer: root,
    keyUsage: { digitalSignature: true },
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
      { name: 'extKeyUsage', serverAuth: true },
    ],
  })
  const folder = mkdtempSync(join(tmpdir(), 'custodian-tls-'))
  const cert = join(folder, 'server.pem')
  const key = join(folder, 'server-key.pem')
  writeFileSync(cert, server.pem)
  writeFileSync(key, server.key)
  const agent = new Agent({ connect: { ca: root.pem } })
  const trustingFetch = ((input: string | URL, init?: RequestInit) =>
    undiciFetch(input, { ...(init as object), dispatcher: agent })) as unknown as typeof fetch
  return {
    cert,
    key,
    ca: root.pem,
    fetch: trustingFetch,
    remove: async () => {
      await agent.close()
      rmSync(folder, { recursive: true, force: true })
    },
  }
}
