import { invalid, notFound } from '../errors.js'
import type { Index } from '../kernel/projections.js'
import type { Plan } from '../kernel/write-plan.js'
import type { PlannedChange } from '../store/store.js'
import { checkId } from '../validation.js'
import type { CatalogDocument } from './catalog-rdf.js'
import { expandIb1, readTerm } from './vocabulary.js'

/** Pure write planners for the catalog: data services, licence interpretations and participants. */

/** Stores what a document holds: each data service and licence interpretation replaces the one at its URL. */
export function loadCatalog(doc: CatalogDocument, source: string, now: string): Plan {
  const changes: PlannedChange[] = [
    ...doc.services.map(
      (s): PlannedChange => ({
        tbl: 'ib1_services',
        op: 'put',
        row: {
          url: s.url,
          title: s.title,
          roles: JSON.stringify(s.roles),
          licence: s.licence,
          updated_at: now,
        },
      }),
    ),
    ...doc.licences.map(
      (l): PlannedChange => ({
        tbl: 'ib1_licences',
        op: 'put',
        row: {
          url: l.url,
          legal_text: l.legalText,
          grants: JSON.stringify(l.grants),
          obligations: JSON.stringify(l.obligations),
          updated_at: now,
        },
      }),
    ),
  ]
  return {
    changes,
    summary: `loaded ${doc.services.length} data service(s) and ${doc.licences.length} licence interpretation(s) from ${source}${doc.notes.length > 0 ? `; ${doc.notes.length} old name(s) replaced` : ''}`,
    details: { services: doc.services.length, licences: doc.licences.length, notes: doc.notes },
  }
}

const absoluteUrl = (what: string, given: string) => {
  const text = expandIb1(given)
  if (/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(text) && URL.canParse(text)) return text
  throw invalid(`${what} "${given}" is not an absolute URL (nor ib1:Name)`)
}

/** Adds a participant, or replaces its roles and the obligations it understands. */
export function putParticipant(
  { catalog }: Index,
  input: { id: string; name?: string; roles: readonly string[]; understands: readonly string[]; now: string },
): Plan {
  checkId('participant', input.id)
  if (input.roles.length === 0) throw invalid(`participant ${input.id} needs at least one role`)
  const roles = input.roles.map((r) => absoluteUrl('role', r))
  const understands = input.understands.map((o) => {
    const read = readTerm('obligation', absoluteUrl('obligation', o))
    if (!read.ok) throw invalid(read.reason)
    return read.iri
  })
  const existing = catalog.participants.get(input.id)
  return {
    changes: [
      {
        tbl: 'ib1_participants',
        op: 'put',
        row: {
          id: input.id,
          name: input.name ?? existing?.name ?? input.id,
          roles: JSON.stringify([...new Set(roles)]),
          understands: JSON.stringify([...new Set(understands)]),
          created_at: existing?.created_at ?? input.now,
          updated_at: input.now,
        },
      },
    ],
    summary: `${existing ? 'updated' : 'added'} participant ${input.id} with ${roles.length} role(s), understanding ${understands.length} obligation(s)`,
  }
}

export function removeParticipant({ catalog }: Index, id: string): Plan {
  if (!catalog.participants.has(id)) throw notFound(`participant ${id} is not registered`)
  return {
    changes: [{ tbl: 'ib1_participants', op: 'delete', row: { id } }],
    summary: `removed participant ${id}`,
  }
}

export function removeService({ catalog }: Index, url: string): Plan {
  if (!catalog.services.has(url)) throw notFound(`data service ${url} is not in the catalog`)
  return {
    changes: [{ tbl: 'ib1_services', op: 'delete', row: { url } }],
    summary: `removed data service ${url} from the catalog`,
  }
}
