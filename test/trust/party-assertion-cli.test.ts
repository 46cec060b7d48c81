import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'
import { testPki } from '../support/test-pki.js'

/** `custodian party assertion`: a client assertion signed by hand, for trying a token endpoint. */
describe('custodian party assertion', () => {
  const temp = tempSqlite()
  const party = testPki().participant('EU.EORI.NL000000004')
  const key = join(temp.dir, 'party.key.pem')
  const chain = join(temp.dir, 'party.chain.pem')
  writeFileSync(key, party.key)
  writeFileSync(chain, party.chain.join(''))
  afterAll(() => temp.remove())
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'party', 'assertion', ...args], { encoding: 'utf8' })

  it('prints an assertion of the party its certificate names, for the audience, living 30 s, with its chain', () => {
    const made = run('--key', key, '--chain', chain, '--audience', 'EU.EORI.NLREGISTER')
    expect(made.stderr).toBe('')
    expect(made.status).toBe(0)
    const jwt = made.stdout.trim()
    const claims = decodeJwt(jwt)
    expect(claims).toMatchObject({
      iss: 'EU.EORI.NL000000004',
      sub: 'EU.EORI.NL000000004',
      aud: 'EU.EORI.NLREGISTER',
    })
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(30)
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: 'RS256' })
    expect(decodeProtectedHeader(jwt).x5c).toHaveLength(3)
    const other = run('--key', key, '--chain', chain, '--audience', 'X', '--client-id', 'EU.EORI.OTHER')
    expect(decodeJwt(other.stdout.trim()).iss).toBe('EU.EORI.OTHER')
  })

  it('names what is missing or unreadable, exit 2', () => {
    const noAudience = run('--key', key, '--chain', chain)
    expect(noAudience.status).toBe(2)
    expect(noAudience.stderr).toMatch(/^custodian: --audience names the party whose token endpoint is asked/)
    const noKey = run('--key', join(temp.dir, 'absent.pem'), '--chain', chain, '--audience', 'X')
    expect(noKey.status).toBe(2)
    expect(noKey.stderr).toBe(`custodian: ${join(temp.dir, 'absent.pem')}: cannot read the key (ENOENT)\n`)
    const notKey = run('--key', chain, '--chain', chain, '--audience', 'X')
    expect(notKey.status).toBe(2)
    expect(notKey.stderr).toMatch(new RegExp(`^custodian: ${chain}: not a PKCS#8 RSA private key in PEM`))
  })
})
