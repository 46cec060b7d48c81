import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { expectFailure } from '../../test/support/unit.js'
import { tlsOptions, trustedProxies } from './transport.js'

const dir = mkdtempSync(join(tmpdir(), 'custodian-transport-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string) => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const KEY = '-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n'

describe('tlsOptions', () => {
  it('is plain HTTP without a certificate, and TLS 1.2 or later with one', () => {
    expect(tlsOptions({ tlsCert: '', tlsKey: '' })).toBeUndefined()
    const options = tlsOptions({ tlsCert: file('cert.pem', CERT), tlsKey: file('key.pem', KEY) })
    expect(options?.minVersion).toBe('TLSv1.2')
    expect(options?.cert.toString()).toBe(CERT)
  })

  it('names the setting and the file that is wrong', () => {
    expectFailure(() => tlsOptions({ tlsCert: file('c.pem', CERT), tlsKey: '' }), 'Validation', /go together/)
    expectFailure(
      () => tlsOptions({ tlsCert: join(dir, 'missing.pem'), tlsKey: file('k.pem', KEY) }),
      'Validation',
      /^--tls-cert .*missing\.pem: ENOENT/,
    )
    expectFailure(
      () => tlsOptions({ tlsCert: file('c2.pem', CERT), tlsKey: file('k2.pem', CERT) }),
      'Validation',
      /^--tls-key .*k2\.pem: expected a PEM file with a private key$/,
    )
  })
})

describe('trustedProxies', () => {
  const publicUrl = 'https://custodian.example'

  it('believes no proxy by default, and the listed addresses and ranges otherwise', () => {
    expect(trustedProxies({ trustProxy: '', publicUrl: '' })).toBe(false)
    expect(trustedProxies({ trustProxy: '127.0.0.1, 10.0.0.0/8,::1', publicUrl })).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
    ])
  })

  it('refuses what is not an address or range, and a proxy without a public URL', () => {
    for (const bad of ['proxy.example', '10.0.0.0/33', '10.0.0.0/x', '*'])
      expectFailure(() => trustedProxies({ trustProxy: bad, publicUrl }), 'Validation', /^--trust-proxy: "/)
    expectFailure(
      () => trustedProxies({ trustProxy: '127.0.0.1', publicUrl: '' }),
      'Validation',
      /--trust-proxy needs --public-url/,
    )
  })
})
