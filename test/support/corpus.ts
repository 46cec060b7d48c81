import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The conformance corpus: files others wrote (the seeds, the Green Button samples and schema, the iSHARE
 * register's cases), kept outside this repository. One setting says where it is: CUSTODIAN_CORPUS, relative to
 * the repository (default `../shared`, where the project's machines and CI lay it).
 */
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url))
export const CORPUS = resolve(REPOSITORY, process.env.CUSTODIAN_CORPUS ?? '../shared')

/** A file or folder of the corpus; a missing one fails naming where it was looked for and the setting. */
export function corpusPath(relative: string): string {
  const path = resolve(CORPUS, relative)
  if (!existsSync(path))
    throw new Error(
      `the conformance corpus has no ${relative}: looked in ${CORPUS} (set CUSTODIAN_CORPUS to where it is)`,
    )
  return path
}
