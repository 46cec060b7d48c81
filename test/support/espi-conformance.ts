import { type EspiEntry, readEspi } from '../../src/greenbutton/espi-reader.js'

/**
 * The ESPI rules the Green Button Alliance's CMD suite checks on every served feed (FB_01, FB_04, FB_15 …),
 * as executable checks: a third party's view, through HTTP with its token. Starting from one feed, every
 * `self`, `up` and `related` link is followed, so each document the feed leads to is checked too.
 *
 * - ids: every entry's (and feed's) id is a `urn:uuid:` of a valid UUID (RFC 9562: a version 1-8, the
 *   variant bits 10); one resource has one id, and no two resources share one.
 * - links resolve: every `self`, `up` and `related` href answers 200 to the same token.
 * - links agree: an entry's `self` answers that entry; each entry of a collection a `related` (or `up`)
 *   link names has that collection as its `up`.
 * - context: every MeterReading links a ReadingType, every UsagePoint a LocalTimeParameters, and the link
 *   answers a resource of that kind.
 * - readings lie inside their IntervalBlock's interval.
 * - summaries are linked both ways: a UsagePoint's `related` names their collection, and each summary's
 *   `up` is that collection.
 */
export interface Violation {
  rule: 'id' | 'resolvable' | 'consistent' | 'context' | 'interval' | 'summary'
  /** The document (and entry, by its self link) it was found in. */
  where: string
  message: string
}

const UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i
const SUMMARIES = ['ElectricPowerUsageSummary', 'UsageSummary']

interface Document {
  status: number
  feedId?: string
  entries: EspiEntry[]
}

export interface ConformanceReport {
  violations: Violation[]
  /** Every document fetched, by URL. */
  documents: ReadonlyMap<string, Document>
}

/** Runs the checks on the feed at `url` and everything it links to, reading as the holder of `token`. */
export async function checkEspiConformance(url: string, token: string): Promise<ConformanceReport> {
  const documents = new Map<string, Document>()
  const violations: Violation[] = []
  const fail = (rule: Violation['rule'], where: string, message: string) =>
    violations.push({ rule, where, message })

  const fetchDocument = async (href: string): Promise<Document> => {
    const known = documents.get(href)
    if (known) return known
    const response = await fetch(href, { headers: { authorization: `Bearer ${token}` } })
    const xml = await response.text()
    const document: Document =
      response.status === 200
        ? {
            status: 200,
            feedId: /^\s*(?:<\?xml[^>]*>\s*)?<feed[^>]*>\s*<id>([^<]*)<\/id>/.exec(xml)?.[1],
            entries: (await readEspi([xml])).entries,
          }
        : { status: response.status, entries: [] }
    documents.set(href, document)
    return document
  }

  // Every resource's id, by its self link: one id each, and no id for two.
  const idOfSelf = new Map<string, string>()
  const selfOfId = new Map<string, string>()
  const pending = [url]
  const linked = new Set<string>([url])
  const follow = (href: string | undefined) => {
    if (href && !linked.has(href)) {
      linked.add(href)
      pending.push(href)
    }
  }

  for (let href = pending.shift(); href !== undefined; href = pending.shift()) {
    const document = await fetchDocument(href)
    if (document.status !== 200) {
      fail('resolvable', href, `answers ${document.status}`)
      continue
    }
    if (document.feedId !== undefined && !UUID.test(document.feedId))
      fail('id', href, `the feed's id ${document.feedId} is not a urn:uuid of a valid UUID`)
    for (const entry of document.entries) {
      const where = entry.self ?? `${href} (an entry with no self link)`
      if (!UUID.test(entry.atomId)) fail('id', where, `id ${entry.atomId} is not a urn:uuid of a valid UUID`)
      if (!entry.self) fail('consistent', where, 'the entry has no self link')
      else {
        const id = idOfSelf.get(entry.self)
        if (id !== undefined && id !== entry.atomId)
          fail('id', where, `the resource has two ids: ${id} and ${entry.atomId}`)
        idOfSelf.set(entry.self, entry.atomId)
        const self = selfOfId.get(entry.atomId)
        if (self !== undefined && self !== entry.self)
          fail('id', where, `id ${entry.atomId} is also that of ${self}`)
        selfOfId.set(entry.atomId, entry.self)
      }
      for (const link of [entry.self, entry.up, ...entry.related]) follow(link)
      checkEntry(entry, where, fail)
    }
  }

  // Links agree: a self link answers its entry; a collection's entries name it as their `up`.
  for (const [href, document] of documents) {
    if (document.status !== 200) continue
    const self = idOfSelf.get(href)
    if (self !== undefined) {
      const [only, ...more] = document.entries
      if (!only || more.length > 0 || only.atomId !== self)
        fail(
          'consistent',
          href,
          `the self link answers ${document.entries.map((e) => e.atomId).join(', ') || 'nothing'}, not ${self}`,
        )
    }
  }
  const fetchedEntries = [...documents.values()].flatMap((d) => d.entries)
  for (const entry of fetchedEntries)
    for (const related of entry.related) {
      const document = documents.get(related)
      if (document?.status !== 200 || idOfSelf.has(related)) continue
      for (const member of document.entries)
        if (member.up !== related)
          fail(
            'consistent',
            `${member.self}`,
            `its up link ${member.up} is not the collection ${entry.self} names (${related})`,
          )
    }
  // An entry is among the entries of the collection its `up` names.
  for (const [href, document] of documents)
    for (const entry of document.entries) {
      const up = entry.up && documents.get(entry.up)
      if (up && up.status === 200 && !up.entries.some((e) => e.atomId === entry.atomId))
        fail('consistent', `${entry.self ?? href}`, `its up link ${entry.up} answers a collection without it`)
    }
  // Context: the linked resources are of the kind the link promises.
  for (const entry of fetchedEntries) {
    const want =
      entry.content.kind === 'MeterReading'
        ? 'ReadingType'
        : entry.content.kind === 'UsagePoint'
          ? 'LocalTimeParameters'
          : undefined
    if (!want) continue
    const href = entry.related.find((r) => r.includes(`/${want}/`))
    const kinds = href ? (documents.get(href)?.entries ?? []).map((e) => e.content.kind) : []
    if (href && kinds.join() !== want)
      fail('context', `${entry.self}`, `its ${want} link ${href} answers ${kinds.join(', ') || 'nothing'}`)
  }
  return { violations: dedupe(violations), documents }
}

/** The rules one entry answers for by itself. */
function checkEntry(
  entry: EspiEntry,
  where: string,
  fail: (rule: Violation['rule'], where: string, message: string) => void,
) {
  const { content } = entry
  if (content.kind === 'MeterReading' && !entry.related.some((r) => r.includes('/ReadingType/')))
    fail('context', where, 'a MeterReading with no related link to its ReadingType')
  if (content.kind === 'UsagePoint') {
    if (!entry.related.some((r) => r.includes('/LocalTimeParameters/')))
      fail('context', where, 'a UsagePoint with no related link to its LocalTimeParameters')
  }
  if (content.kind === 'IntervalBlock' && 'interval' in content) {
    const { start, duration } = content.interval
    const outside = content.readings.filter((r) => r.start < start || r.start + r.duration > start + duration)
    if (outside.length > 0)
      fail(
        'interval',
        where,
        `${outside.length} readings lie outside the block's interval [${start}, ${start + duration})`,
      )
  }
  if (SUMMARIES.includes(content.kind)) {
    const collection = entry.self?.replace(/\/[^/]+$/, '')
    if (entry.up !== collection)
      fail('summary', where, `its up link ${entry.up} is not its collection ${collection}`)
  }
  if (content.kind === 'UsagePoint' && entry.self) {
    const summaries = `${entry.self}/ElectricPowerUsageSummary`
    if (!entry.related.includes(summaries))
      fail('summary', where, `a UsagePoint whose related links do not name its summaries (${summaries})`)
  }
}

const dedupe = (violations: Violation[]) => [
  ...new Map(violations.map((v) => [`${v.rule} ${v.where} ${v.message}`, v])).values(),
]
