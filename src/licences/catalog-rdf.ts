import { Parser, type Quad } from 'n3'
import { canonicalIri, DCAT, DCTERMS, IB1, RDF_TYPE, readTerm, type TermKind } from './vocabulary.js'

/**
 * Reads catalog entries (dcat:DataService with ib1:roleRequiredToAccess and dcterms:license) and licence
 * interpretations (ib1:LicenceInterpretation) from Turtle, with n3. Refusals carry the line and column of the
 * fault: for a missing dot, the end of the statement that lacks it, not the token after. Pure.
 */
export interface Position {
  line: number
  column: number
}

export class RdfError extends Error {
  constructor(
    readonly position: Position,
    readonly reason: string,
  ) {
    super(`${position.line}:${position.column}: ${reason}`)
  }
}

export interface ServiceEntry {
  /** The data service's URL: its identity in the catalog. */
  url: string
  title: string
  /** Holding any one of these roles gives access. */
  roles: string[]
  licence: string
}

export interface LicenceInterpretation {
  /** The licence's URL. */
  url: string
  /** The URL of the full legal text (dcterms:license on the interpretation). */
  legalText: string
  grants: string[]
  obligations: string[]
}

export interface CatalogDocument {
  services: ServiceEntry[]
  licences: LicenceInterpretation[]
  /** What was changed on the way in: old names replaced by new ones. */
  notes: string[]
}

interface Token {
  type: string
  line: number
  start?: number
  end?: number
}
interface N3Failure {
  message: string
  context?: { token?: Token; line?: number; previousToken?: Token }
}

const ROLE = `${IB1}roleRequiredToAccess`
const LICENSE = `${DCTERMS}license`
const TITLE = `${DCTERMS}title`

/** Where an n3 syntax error really is, in 1-based line and column. */
function faultOf(text: string, failure: N3Failure): RdfError {
  const reason = failure.message.replace(/ on line \d+\.?$/, '')
  const { token, previousToken, line } = failure.context ?? {}
  const after = (t: Token): Position => ({ line: t.line, column: (t.end ?? 0) + 1 })
  // A statement or declaration missing its dot is found at the next token, often on the next line.
  if (previousToken && (/end with a dot/.test(reason) || token?.type === 'eof'))
    return new RdfError(after(previousToken), `${reason}: a dot (.) is missing here`)
  if (token?.start !== undefined) return new RdfError({ line: token.line, column: token.start + 1 }, reason)
  const hint = /^Unexpected "https?:\/\//.test(reason) ? ': a URL is written in angle brackets, <…>' : ''
  if (previousToken) {
    // Skip the blanks after the last good token: the fault starts at the next character.
    const lines = text.split('\n')
    let row = previousToken.line
    let column = previousToken.end ?? 0
    while (row <= lines.length) {
      const rest = (lines[row - 1] ?? '').slice(column)
      const blank = /^\s*/.exec(rest)?.[0].length ?? 0
      if (blank < rest.length) return new RdfError({ line: row, column: column + blank + 1 }, reason + hint)
      row++
      column = 0
    }
  }
  return new RdfError({ line: line ?? 1, column: 1 }, reason)
}

/** The first place the text names `iri`, in full or by a prefix: where a refusal about it points. */
function locate(text: string, iri: string, prefixes: ReadonlyMap<string, string>): Position {
  const forms = [`<${iri}>`]
  for (const [prefix, ns] of prefixes) {
    for (const spelling of [ns, canonicalIri(ns)])
      if (canonicalIri(iri).startsWith(canonicalIri(spelling)))
        forms.push(`${prefix}:${canonicalIri(iri).slice(canonicalIri(spelling).length)}`)
  }
  const at = Math.min(...forms.map((f) => text.indexOf(f)).filter((i) => i >= 0))
  if (!Number.isFinite(at)) return { line: 1, column: 1 }
  const before = text.slice(0, at)
  return { line: before.split('\n').length, column: at - before.lastIndexOf('\n') }
}

export function parseCatalogTurtle(text: string, baseIri?: string): CatalogDocument {
  let quads: Quad[]
  try {
    quads = new Parser({ format: 'text/turtle', ...(baseIri ? { baseIRI: baseIri } : {}) }).parse(text)
  } catch (error) {
    throw faultOf(text, error as N3Failure)
  }
  // Only for pointing at terms in messages. (n3's prefix callback is not used: with it, n3 2.x lets a
  // declaration without its dot through.)
  const prefixes = new Map(
    [...text.matchAll(/(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>/g)].map((m) => [
      m[1] ?? '',
      m[2] ?? '',
    ]),
  )
  const refuse = (iri: string, reason: string): never => {
    throw new RdfError(locate(text, iri, prefixes), reason)
  }

  const subjects = new Map<
    string,
    { blank: boolean; facts: { predicate: string; object: Quad['object'] }[] }
  >()
  for (const quad of quads) {
    const key = quad.subject.value
    const entry = subjects.get(key) ?? { blank: quad.subject.termType !== 'NamedNode', facts: [] }
    entry.facts.push({ predicate: canonicalIri(quad.predicate.value), object: quad.object })
    subjects.set(key, entry)
  }

  const notes: string[] = []
  const services: ServiceEntry[] = []
  const licences: LicenceInterpretation[] = []
  for (const [subject, { blank, facts }] of subjects) {
    const values = (predicate: string) => facts.filter((f) => f.predicate === predicate).map((f) => f.object)
    const iris = (predicate: string, what: string, as = canonicalIri) =>
      values(predicate).map((o) =>
        o.termType === 'NamedNode'
          ? as(o.value)
          : refuse(subject, `${what} of <${subject}> must be a URL, not ${JSON.stringify(o.value)}`),
      )
    const one = (predicate: string, what: string) => {
      const found = iris(predicate, what)
      if (found.length === 0) return refuse(subject, `<${subject}> has no ${what}, which is required`)
      if (found.length > 1)
        return refuse(subject, `<${subject}> has ${found.length} ${what}s; it takes exactly one`)
      return found[0] as string
    }
    const types = iris(RDF_TYPE, 'rdf:type')
    const isService = types.includes(`${DCAT}DataService`) || values(ROLE).length > 0
    const isLicence = types.includes(`${IB1}LicenceInterpretation`)
    if (!isService && !isLicence) continue
    if (blank)
      refuse(subject, 'a data service or licence interpretation must be named by its URL, not a blank node')
    if (isService && isLicence)
      refuse(subject, `<${subject}> cannot be both a data service and a licence interpretation`)
    if (isService) {
      const roles = iris(ROLE, 'ib1:roleRequiredToAccess')
      if (roles.length === 0)
        refuse(subject, `<${subject}> has no ib1:roleRequiredToAccess, which is required`)
      const title = values(TITLE).find((o) => o.termType === 'Literal')?.value ?? ''
      services.push({
        url: subject,
        title,
        roles: [...new Set(roles)],
        licence: one(LICENSE, 'dcterms:license'),
      })
      continue
    }
    const terms = (kind: TermKind) =>
      // As written, so that a replaced old name is reported in the spelling the document used.
      iris(`${IB1}${kind}`, `ib1:${kind}`, (iri) => iri).map((iri) => {
        const read = readTerm(kind, iri)
        if (!read.ok) return refuse(iri, read.reason)
        if (read.renamedFrom)
          notes.push(`<${subject}>: ${kind} ${read.renamedFrom} is an old name, replaced by ${read.iri}`)
        return read.iri
      })
    licences.push({
      url: subject,
      legalText: one(LICENSE, 'dcterms:license (the URL of the legal text)'),
      grants: [...new Set(terms('grant'))],
      obligations: [...new Set(terms('obligation'))],
    })
  }
  if (services.length === 0 && licences.length === 0)
    throw new RdfError(
      { line: 1, column: 1 },
      'the document holds no dcat:DataService and no ib1:LicenceInterpretation',
    )
  return { services, licences, notes }
}
