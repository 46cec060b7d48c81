import { readFileSync } from 'node:fs'
import { CatalogModel } from '../../../src/licences/catalog-model.js'
import { parseCatalogTurtle } from '../../../src/licences/catalog-rdf.js'
import { loadCatalog } from '../../../src/licences/changes.js'
import { decideServiceAccess } from '../../../src/licences/rules.js'
import type { PlannedChange } from '../../../src/store/store.js'
import { applyAll, type DomainAdapter, field, optional, type Question, strings } from './adapter.js'

/**
 * The IB1 trust-framework catalog. A model:
 *   prefixes: {name: IRI}            terms written name:rest are expanded, in the model and in questions
 *   turtle: fixtures/x.ttl           a catalog document under test/, read as `custodian catalog load` does
 *   licences: {url: {legal_text, grants: [...], obligations: [...]}}
 *   services: {url: {roles: [...], licence}}
 *   participants: {id: {roles: [...], understands: [...]}}
 * A question: {participant, service} (decideServiceAccess).
 */
const TEST_ROOT = new URL('../../', import.meta.url)
const NOW = '2026-11-23T10:00:00.000Z'
/** The model's section for each table. */
const section = {
  ib1_licences: 'licences',
  ib1_services: 'services',
  ib1_participants: 'participants',
} as const

const expander = (prefixes: Question) => (term: string) => {
  const at = term.indexOf(':')
  const iri = at < 0 ? undefined : prefixes[term.slice(0, at)]
  return typeof iri === 'string' ? iri + term.slice(at + 1) : term
}

export const licences: DomainAdapter<{ catalog: CatalogModel; expand: (term: string) => string }> = {
  build(model) {
    const m = (model ?? {}) as Question
    const expand = expander((optional<Question>(m, 'prefixes', 'object') ?? {}) as Question)
    const terms = (of: Question, name: string) => JSON.stringify(strings(of, name).map(expand))
    const entries = (name: string) =>
      Object.entries((optional<Question>(m, name, 'object') ?? {}) as Question)
    const changes: PlannedChange[] = []
    const turtle = optional<string>(m, 'turtle', 'string')
    if (turtle !== undefined)
      changes.push(
        ...loadCatalog(parseCatalogTurtle(readFileSync(new URL(turtle, TEST_ROOT), 'utf8')), turtle, NOW)
          .changes,
      )
    const put = <T extends 'ib1_licences' | 'ib1_services' | 'ib1_participants'>(
      tbl: T,
      row: (key: string, of: Question) => Extract<PlannedChange, { tbl: T; op: 'put' }>['row'],
    ) => {
      for (const [key, of] of entries(section[tbl]))
        changes.push({ tbl, op: 'put', row: row(key, of as Question) } as PlannedChange)
    }
    put('ib1_licences', (url, of) => ({
      url: expand(url),
      legal_text: field<string>(of, 'legal_text', 'string'),
      grants: terms(of, 'grants'),
      obligations: terms(of, 'obligations'),
      updated_at: NOW,
    }))
    put('ib1_services', (url, of) => ({
      url: expand(url),
      title: url,
      roles: terms(of, 'roles'),
      licence: expand(field(of, 'licence', 'string')),
      updated_at: NOW,
    }))
    put('ib1_participants', (id, of) => ({
      id,
      name: id,
      roles: terms(of, 'roles'),
      understands: terms(of, 'understands'),
      created_at: NOW,
      updated_at: NOW,
    }))
    return { catalog: applyAll(new CatalogModel(), changes), expand }
  },
  ask: ({ catalog, expand }, q) =>
    decideServiceAccess(catalog, field(q, 'participant', 'string'), expand(field(q, 'service', 'string'))),
  revision: ({ catalog }) => catalog.revision,
}
