import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { corpusPath } from './corpus.js'

const SCHEMA = corpusPath('data/greenbutton/schema/greenbutton.xsd')
// xmllint's exit codes for a document that is malformed (1) or does not validate (3, 4). Anything else
// (no xmllint, a schema that does not compile) is a broken test setup, not an invalid document.
const INVALID = new Set([1, 3, 4])

/** Validates a Green Button document against the Atom, ESPI and customer schemas with xmllint. */
export async function validateGreenButton(xml: string): Promise<{ valid: boolean; errors: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'custodian-xmllint-'))
  const file = join(dir, 'document.xml')
  try {
    await writeFile(file, xml)
    return await new Promise((resolve, reject) => {
      execFile('xmllint', ['--noout', '--schema', SCHEMA, file], (error, _stdout, stderr) => {
        const errors = stderr.replaceAll(file, 'document').trim()
        if (!error) resolve({ valid: true, errors: '' })
        else if (typeof error.code === 'number' && INVALID.has(error.code)) resolve({ valid: false, errors })
        else reject(new Error(`xmllint could not validate: ${error.message}\n${errors}`))
      })
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
