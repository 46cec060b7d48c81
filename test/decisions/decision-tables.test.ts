import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { DomainAdapter } from './adapters/adapter.js'
import { consent } from './adapters/consent.js'
import { entitlements } from './adapters/entitlements.js'
import { licences } from './adapters/licences.js'
import { trust } from './adapters/trust.js'
import { readTable, tracked } from './tables.js'

/**
 * Decision tables as data, in the manner of OpenFGA's and SpiceDB's test files: each YAML file under a
 * domain's folder holds a `model` (the state, in that domain's vocabulary) and `cases`. A case may add rows
 * (`given`) or take some away (`remove`), then asks its `check` questions in order; `then` continues on the
 * same state with more steps. Each check holds the question and what must come back:
 *   allowed (required), reason (exact), reason_contains, expect (fields the answer must match),
 *   exactly (the answer has no fields beyond allowed, reason, revision and those of `expect`).
 * Every answer that carries a revision must carry the state's. A key of a model, a `given` or a question that
 * the domain's adapter never reads fails the case: a typo must not pass as a check that holds.
 */
const ROOT = fileURLToPath(new URL('.', import.meta.url))
const DOMAINS: Record<string, DomainAdapter<unknown>> = {
  entitlements: entitlements as DomainAdapter<unknown>,
  consent: consent as DomainAdapter<unknown>,
  licences: licences as DomainAdapter<unknown>,
  trust: trust as DomainAdapter<unknown>,
}
const EXPECTATIONS = new Set(['allowed', 'reason', 'reason_contains', 'expect', 'exactly'])

const files = Object.keys(DOMAINS).flatMap((domain) =>
  readdirSync(join(ROOT, domain), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ domain, path: join(ROOT, domain, f) })),
)

describe('decision tables', () => {
  it('has a table for every domain', () => {
    expect(new Set(files.map((f) => f.domain))).toEqual(new Set(Object.keys(DOMAINS)))
  })

  describe.each(files.map((f) => ({ ...f, file: relative(ROOT, f.path) })))('$file', ({
    domain,
    path,
    file,
  }) => {
    const adapter = DOMAINS[domain] as DomainAdapter<unknown>
    const table = readTable(path)
    it.each(table.cases.map((c) => ({ ...c, title: c.name })))('$title', (c) => {
      const model = tracked(table.model)
      const state = adapter.build(model.value)
      if (model.unread().length > 0) throw new Error(`${file}: model keys no one reads: ${model.unread()}`)
      for (const [s, step] of [c, ...(c.then ?? [])].entries()) {
        for (const [op, fragment] of [
          ['put', step.given],
          ['delete', step.remove],
        ] as const) {
          if (fragment === undefined) continue
          if (!adapter.given) throw new Error(`${file} › ${c.name}: ${domain} tables take no given or remove`)
          const read = tracked(fragment)
          adapter.given(state, read.value, op)
          if (read.unread().length > 0)
            throw new Error(`${file} › ${c.name}: keys no one reads: ${read.unread()}`)
        }
        for (const [n, check] of (step.check ?? []).entries()) {
          const question = Object.fromEntries(Object.entries(check).filter(([k]) => !EXPECTATIONS.has(k)))
          const where = `${file} › ${c.name} › ${s > 0 ? `then ${s} › ` : ''}check ${n + 1} ${JSON.stringify(question)}`
          if (typeof check.allowed !== 'boolean') throw new Error(`${where}: says nothing of allowed`)
          const asked = tracked(question)
          const answer = adapter.ask(state, asked.value)
          if (asked.unread().length > 0) throw new Error(`${where}: keys no one reads: ${asked.unread()}`)
          expect(answer.allowed, `${where}: allowed (${answer.reason})`).toBe(check.allowed)
          if (check.reason !== undefined) expect(answer.reason, `${where}: reason`).toBe(check.reason)
          if (check.reason_contains !== undefined)
            expect(answer.reason, `${where}: reason`).toContain(check.reason_contains)
          const fields = (check.expect ?? {}) as Record<string, unknown>
          expect(answer, `${where}: expect`).toMatchObject(fields)
          if (adapter.revision && answer.revision !== undefined)
            expect(answer.revision, `${where}: revision`).toBe(adapter.revision(state))
          if (check.exactly === true)
            expect(Object.keys(answer).sort(), `${where}: fields`).toEqual(
              [...new Set(['allowed', 'reason', 'revision', ...Object.keys(fields)])].sort(),
            )
        }
      }
    })
  })
})
