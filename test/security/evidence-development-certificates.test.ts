import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { developmentMaterial } from '../../src/trust/evidence-token.js'
import { tempSqlite } from '../support/temp-store.js'

describe('the development certificate chain', () => {
  const temp = tempSqlite()
  afterAll(() => temp.remove())

  it('passes openssl verify -x509_strict: a CA root with key identifiers, a signing leaf', async () => {
    const { chain } = await developmentMaterial('EU.EORI.REGISTER')
    const [leaf, root] = chain as [string, string]
    writeFileSync(join(temp.dir, 'root.pem'), root)
    writeFileSync(join(temp.dir, 'leaf.pem'), leaf)
    const verify = spawnSync('openssl', ['verify', '-x509_strict', '-CAfile', 'root.pem', 'leaf.pem'], {
      cwd: temp.dir,
      encoding: 'utf8',
    })
    expect(verify.stderr).toBe('')
    expect(verify.stdout).toBe('leaf.pem: OK\n')
    const text = (file: string) =>
      spawnSync('openssl', ['x509', '-noout', '-text', '-in', file], { cwd: temp.dir, encoding: 'utf8' })
        .stdout
    expect(text('root.pem')).toMatch(/Basic Constraints: critical\s+CA:TRUE/)
    expect(text('root.pem')).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/)
    expect(text('leaf.pem')).toMatch(/Key Usage: critical\s+Digital Signature/)
    expect(text('leaf.pem')).toMatch(/Authority Key Identifier/)
  })
})
