import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { withoutComments } from '../../src/trust/delegation-shapes.js'
import { corpusPath } from './corpus.js'

/** The iSHARE register's files written by others (the corpus's `data/ishare/`), used from where they are. */
export const ISHARE = corpusPath('data/ishare')

/** One of those files, `//` comment lines stripped, parsed. */
export const ishareJson = (path: string): unknown =>
  JSON.parse(withoutComments(readFileSync(join(ISHARE, path), 'utf8')))

/** Every case of the register: each mask with its policy and the evidence expected for it. */
export const ishareCases = readdirSync(join(ISHARE, 'cases'))
  .filter((f) => /_mask\d*\.json$/.test(f))
  .map((mask) => {
    const [name, n] = /^(case\d+)_mask(\d*)\.json$/.exec(mask)?.slice(1) ?? []
    return { mask, policy: `${name}_policy.json`, evidence: `${name}_evidence${n}.json` }
  })

/** A case's policy made current: the same rules, valid from a minute ago for `seconds`. */
export function currentPolicy(file: string, seconds = 86_400) {
  const { delegationEvidence } = ishareJson(`cases/${file}`) as {
    delegationEvidence: Record<string, unknown>
  }
  const now = Math.floor(Date.now() / 1000)
  return { delegationEvidence: { ...delegationEvidence, notBefore: now - 60, notOnOrAfter: now + seconds } }
}
