import { readFileSync } from 'node:fs'
import { certificatesOf, signingParties } from '../trust/evidence-token.js'
import { clientAssertion } from '../trust/party-client.js'
import { type Flags, UsageError } from './verb-context.js'

// The verb of an iSHARE party: `party assertion`, a client assertion signed by hand, to try a token endpoint.

const USAGE = 'party takes: assertion --key KEY.pem --chain CHAIN.pem --audience ID [--client-id ID]'

/** A file's text; a fault names the file. */
function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new UsageError(
      `${path}: cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    )
  }
}

/**
 * Prints a client assertion for the party `--audience`'s token endpoint, signed with `--key` (PKCS#8 PEM),
 * `--chain` (PEM, the signing certificate first) sent as x5c; the client id is the party the certificate
 * names, unless `--client-id` says otherwise.
 */
export async function partyAssertion(flags: Flags, rest: string[], out: NodeJS.WritableStream) {
  const { key, chain, audience } = flags
  const given = flags['client-id']
  if (rest[0] !== 'assertion' || rest.length !== 1 || typeof key !== 'string' || typeof chain !== 'string')
    throw new UsageError(USAGE)
  if (typeof audience !== 'string' || audience === '')
    throw new UsageError(`--audience names the party whose token endpoint is asked; ${USAGE}`)
  const certificates = certificatesOf(readText(chain, 'certificate chain'))
  const first = certificates[0]
  if (!first) throw new UsageError(`${chain}: no PEM certificate in it`)
  let named: string[]
  try {
    named = signingParties(first)
  } catch (error) {
    throw new UsageError(`${chain}: its first certificate cannot be read (${(error as Error).message})`)
  }
  const clientId = typeof given === 'string' ? given : named[0]
  if (clientId === undefined || (given === undefined && named.length !== 1))
    throw new UsageError(
      `${chain}: its first certificate names ${named.length} parties (subject serialNumber); say which with --client-id`,
    )
  const keyText = readText(key, 'key')
  let assertion: string
  try {
    assertion = await clientAssertion(
      { key: keyText, chain: certificates },
      clientId,
      audience,
      Math.floor(Date.now() / 1000),
    )
  } catch (error) {
    throw new UsageError(`${key}: not a PKCS#8 RSA private key in PEM (${(error as Error).message})`)
  }
  out.write(`${assertion}\n`)
  return 0
}
