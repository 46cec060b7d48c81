import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

const REPOSITORY = fileURLToPath(new URL('.', import.meta.url))
/** The conformance corpus (files others wrote), found as test/support/corpus.ts finds it. */
const CORPUS = resolve(REPOSITORY, process.env.CUSTODIAN_CORPUS ?? '../shared')
const USES_CORPUS = /support\/(corpus|ishare|xmllint)\.js/

/** Test files under `folder` that read the corpus (through test/support/corpus.ts and the helpers on it). */
function corpusTests(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return corpusTests(path)
    return entry.name.endsWith('.test.ts') && USES_CORPUS.test(readFileSync(path, 'utf8'))
      ? [relative(REPOSITORY, path)]
      : []
  })
}

// Where the corpus is absent (a fresh clone on its own), its tests are left out, said in one line; every
// other test runs. CI has it, so there they all run.
const skipped = existsSync(join(CORPUS, 'data'))
  ? []
  : ['src', 'test'].flatMap((f) => corpusTests(join(REPOSITORY, f)))
if (skipped.length > 0)
  console.log(
    `conformance corpus not found at ${CORPUS} (set CUSTODIAN_CORPUS): skipping the ${skipped.length} test files that read it`,
  )

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...skipped],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The storage suite and the end-to-end tests open files, databases and servers: two at a time fit a
    // two-core machine.
    maxWorkers: 2,
  },
})
