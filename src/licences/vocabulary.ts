/**
 * The IB1 Trust Framework vocabulary of licence interpretations: its namespace (three spellings, one
 * meaning), the standard grants and obligations with their old names, and how a term found in a document is
 * read. Pure.
 */

/** The spelling Custodian stores and exports: the one the access-control specification writes. */
export const IB1 = 'http://registry.ib1.org/ns/1.0#'
export const IB1_SPELLINGS = [
  IB1,
  'https://registry.core.trust.ib1.org/ns/1.0#',
  'https://registry.trust.ib1.org/ns/1.0#',
] as const
export const DCTERMS = 'http://purl.org/dc/terms/'
export const DCAT = 'http://www.w3.org/ns/dcat#'
export const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type'

/** Standard grants, new name → old name (the Harvester replaces old names with new ones). */
export const STANDARD_GRANTS: Readonly<Record<string, string>> = {
  GrantUseAny: 'use_any',
  GrantUseDevelopment: 'use_dev',
  GrantUseNonCommercial: 'use_noncom',
  GrantAdaptAny: 'adapt_any',
  GrantAdaptDevelopment: 'adapt_dev',
  GrantAdaptNonCommercial: 'adapt_noncom',
  GrantCombineAny: 'combine_any',
  GrantCombineExternal: 'combine_external',
  GrantCombineInternal: 'combine_internal',
  GrantRedistributeOriginal: 'redistribute_original',
  GrantRedistributeDerived: 'redistribute_derived',
  GrantRedistributeCombined: 'redistribute_combined',
}

/** Standard obligations, new name → old name. */
export const STANDARD_OBLIGATIONS: Readonly<Record<string, string>> = {
  ObligationFullTextOfLicence: 'ft',
  ObligationAttribution: 'by',
  ObligationSameLicence: 'sa',
}

export type TermKind = 'grant' | 'obligation'

const renames = (table: Readonly<Record<string, string>>) =>
  new Map(Object.entries(table).map(([now, old]) => [old, now]))
const OLD_NAMES: Record<TermKind, Map<string, string>> = {
  grant: renames(STANDARD_GRANTS),
  obligation: renames(STANDARD_OBLIGATIONS),
}
const NAMES: Record<TermKind, Readonly<Record<string, string>>> = {
  grant: STANDARD_GRANTS,
  obligation: STANDARD_OBLIGATIONS,
}

/** `ib1:Name`, as messages and Turtle documents write it, as the IRI it stands for; anything else as it is. */
export const expandIb1 = (text: string) => (text.startsWith('ib1:') ? IB1 + text.slice(4) : text)

/** Any spelling of the ib1: namespace becomes the one Custodian uses; other IRIs are left alone. */
export function canonicalIri(iri: string): string {
  for (const spelling of IB1_SPELLINGS)
    if (iri.startsWith(spelling) && spelling !== IB1) return IB1 + iri.slice(spelling.length)
  return iri
}

export type TermReading = { ok: true; iri: string; renamedFrom?: string } | { ok: false; reason: string }

/**
 * Reads a grant or obligation: an old standard name becomes its new one (and says so), a custom term outside
 * ib1: is kept as it is, and an ib1: term that is not standard is refused, since only the Trust Framework
 * defines that namespace.
 */
export function readTerm(kind: TermKind, iri: string): TermReading {
  const canonical = canonicalIri(iri)
  if (!canonical.startsWith(IB1)) return { ok: true, iri: canonical }
  const name = canonical.slice(IB1.length)
  if (Object.hasOwn(NAMES[kind], name)) return { ok: true, iri: canonical }
  const renamed = OLD_NAMES[kind].get(name)
  if (renamed) return { ok: true, iri: IB1 + renamed, renamedFrom: iri }
  const other: TermKind = kind === 'grant' ? 'obligation' : 'grant'
  if (Object.hasOwn(NAMES[other], name) || OLD_NAMES[other].has(name))
    return {
      ok: false,
      reason: `ib1:${name} is ${other === 'grant' ? 'a' : 'an'} ${other}, not ${kind === 'grant' ? 'a' : 'an'} ${kind}`,
    }
  return {
    ok: false,
    reason: `ib1:${name} is not a standard ${kind}; a custom ${kind} belongs in its author's own namespace, not ib1:`,
  }
}

/** `ib1:GrantUseAny` for a standard term, the IRI otherwise: how terms are named in messages. */
export const shortName = (iri: string) => (iri.startsWith(IB1) ? `ib1:${iri.slice(IB1.length)}` : iri)
