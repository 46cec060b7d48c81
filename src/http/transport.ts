import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import type { Config } from '../config.js'
import { invalid } from '../errors.js'

/**
 * How the server is reached: its own TLS (`--tls-cert`, `--tls-key`) or a TLS-terminating proxy in front
 * (`--trust-proxy`), checked before it listens so that a bad setting stops it with the setting named.
 */

/** One year, the lifetime browsers' preload lists ask for; no includeSubDomains: other hosts are not ours. */
export const HSTS = 'max-age=31536000'

export interface TlsOptions {
  cert: Buffer
  key: Buffer
  minVersion: 'TLSv1.2'
}

/** The listener's TLS options from `--tls-cert` and `--tls-key` (both or neither); undefined: plain HTTP. */
export function tlsOptions(config: Pick<Config, 'tlsCert' | 'tlsKey'>): TlsOptions | undefined {
  if (!config.tlsCert && !config.tlsKey) return undefined
  if (!config.tlsCert || !config.tlsKey)
    throw invalid('--tls-cert and --tls-key go together: give the certificate and its private key')
  const read = (flag: string, path: string, block: RegExp, what: string) => {
    let text: string
    try {
      text = readFileSync(resolve(path), 'utf8')
    } catch (error) {
      throw invalid(`--${flag} ${path}: ${(error as Error).message}`)
    }
    if (!block.test(text)) throw invalid(`--${flag} ${path}: expected a PEM file with ${what}`)
    return Buffer.from(text)
  }
  return {
    cert: read('tls-cert', config.tlsCert, /-----BEGIN CERTIFICATE-----/, 'a certificate'),
    // PKCS#8, PKCS#1 (RSA) and SEC1 (EC) keys all end their label with "PRIVATE KEY".
    key: read('tls-key', config.tlsKey, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'),
    minVersion: 'TLSv1.2',
  }
}

/**
 * The proxies whose X-Forwarded-* headers are believed, as Fastify's trustProxy takes them; false: none.
 * Behind a proxy the listening address says nothing about what clients reach, so the public URL is required.
 */
export function trustedProxies(config: Pick<Config, 'trustProxy' | 'publicUrl'>): string[] | false {
  const entries = config.trustProxy
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
  if (entries.length === 0) return false
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/')
    const family = isIP(address)
    const bits = family === 4 ? 32 : 128
    if (family === 0 || (prefix !== undefined && !(/^\d+$/.test(prefix) && Number(prefix) <= bits)))
      throw invalid(
        `--trust-proxy: "${entry}" is not an IP address or CIDR range (for example 127.0.0.1,10.0.0.0/8)`,
      )
  }
  if (!config.publicUrl)
    throw invalid(
      '--trust-proxy needs --public-url: the URL clients reach the proxy at (https://custodian.example, say)',
    )
  return entries
}
