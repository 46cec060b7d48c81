import { SaxesParser, type SaxesTagNS } from 'saxes'
import { xmlText } from '../xml/xml-text.js'
import { type IntervalReading, IntervalReadingDraft, wholeNumber } from './interval-reading-draft.js'
import { ATOM_NS, CUSTOMER_NS, ESPI_NS } from './namespaces.js'

/**
 * Reads a Green Button (ESPI) Atom feed or entry as a stream: text goes in as it arrives, completed
 * entries come out, each with its position. It never resolves entities or loads anything (a DOCTYPE is
 * refused outright), checks every number it will store, and says where and why a document is refused.
 * Deviations it can read past (a ReadingType nested in its MeterReading) become warnings.
 */
/** The default of maxTextLength (config.ts): ESPI values are short. */
const MAX_TEXT = 10_000

/** How deeply elements may nest: ESPI's nest a few levels; the parser and the reader's serializer recurse. */
const MAX_DEPTH = 64

/** The refusal of a text longer than `max`: names the limit and its setting. */
export const tooLongText = (what: string, max: number) =>
  `${what} longer than ${max} characters (the limit maxTextLength, --max-text-length)`

export interface Position {
  line: number
  column: number
}

export class EspiReadError extends Error {
  constructor(
    readonly position: Position,
    readonly reason: string,
  ) {
    super(`${position.line}:${position.column}: ${reason}`)
  }
}

export interface Warning {
  position: Position
  message: string
}

/** A parsed XML element of an entry: enough to read ESPI content from. */
interface Node {
  ns: string
  name: string
  attributes: Record<string, string>
  text: string
  children: Node[]
  position: Position
  /** An IntervalBlock's readings, read as they streamed past (no nodes of their own). */
  readings?: IntervalReading[]
}

export type { IntervalReading } from './interval-reading-draft.js'

export type EspiContent =
  | { kind: 'UsagePoint'; serviceKind: number | undefined; fields: Record<string, unknown> }
  | { kind: 'MeterReading'; readingType?: Record<string, unknown>; readingTypeXml?: string }
  | { kind: 'ReadingType'; fields: Record<string, unknown> }
  | { kind: 'IntervalBlock'; interval: { start: number; duration: number }; readings: IntervalReading[] }
  | { kind: 'ElectricPowerUsageSummary' | 'UsageSummary'; fields: Record<string, unknown> }
  | { kind: 'LocalTimeParameters'; fields: Record<string, unknown> }
  | { kind: string; fields: Record<string, unknown> }

export interface EspiEntry {
  atomId: string
  title: string
  /** rel="self", rel="up" and rel="related" hrefs, as written. */
  self?: string
  up?: string
  related: string[]
  published?: string
  updated?: string
  content: EspiContent
  /**
   * The ESPI element of the content, serialized again (comments dropped), for serving as it was given; an
   * IntervalBlock's without its IntervalReadings, which are read into `content` only.
   */
  xml: string
  position: Position
}

const integer = (node: Node, what: string): number => {
  const value = wholeNumber(node.text, what)
  if (typeof value === 'string') throw new EspiReadError(node.position, value)
  return value
}

/** Writes an element back out, its namespace declared wherever it differs from the parent's. */
function serialize(node: Node, parentNs = '', skip?: Node): string {
  const ns = node.ns === parentNs ? '' : ` xmlns="${xmlText(node.ns)}"`
  const attributes = Object.entries(node.attributes)
    .map(([name, value]) => ` ${name}="${xmlText(value)}"`)
    .join('')
  const children = node.children.filter((c) => c !== skip)
  const inner =
    children.length > 0 ? children.map((c) => serialize(c, node.ns)).join('') : xmlText(node.text.trim())
  return inner === ''
    ? `<${node.name}${ns}${attributes}/>`
    : `<${node.name}${ns}${attributes}>${inner}</${node.name}>`
}

const child = (node: Node, name: string) => node.children.find((c) => c.name === name)

/** Leaf text, numbers where they are numbers, nested elements as objects, repeats as arrays. */
function plain(node: Node): unknown {
  if (node.children.length === 0) {
    const text = node.text.trim()
    return /^-?\d{1,15}$/.test(text) ? Number(text) : text
  }
  const out: Record<string, unknown> = {}
  for (const c of node.children) {
    const value = plain(c)
    const existing = out[c.name]
    out[c.name] =
      existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value]
  }
  return out
}

function intervalBlock(node: Node): EspiContent {
  const interval = child(node, 'interval')
  if (!interval) throw new EspiReadError(node.position, 'IntervalBlock has no interval')
  const start = child(interval, 'start')
  const duration = child(interval, 'duration')
  if (!start || !duration) throw new EspiReadError(interval.position, 'interval needs a start and a duration')
  return {
    kind: 'IntervalBlock',
    interval: { start: integer(start, 'interval start'), duration: integer(duration, 'interval duration') },
    readings: node.readings ?? [],
  }
}

function content(node: Node, warn: (w: Warning) => void): EspiContent {
  switch (node.name) {
    case 'UsagePoint': {
      const kind = child(node, 'ServiceCategory')
      const serviceKind =
        kind && child(kind, 'kind') ? integer(child(kind, 'kind') as Node, 'ServiceCategory kind') : undefined
      return { kind: 'UsagePoint', serviceKind, fields: plain(node) as Record<string, unknown> }
    }
    case 'MeterReading': {
      const nested = child(node, 'ReadingType')
      if (!nested) return { kind: 'MeterReading' }
      warn({
        position: nested.position,
        message:
          'ReadingType is nested in its MeterReading (ESPI links it instead): read as that meter reading’s reading type',
      })
      return {
        kind: 'MeterReading',
        readingType: plain(nested) as Record<string, unknown>,
        readingTypeXml: serialize(nested),
      }
    }
    case 'IntervalBlock':
      return intervalBlock(node)
    default:
      return { kind: node.name, fields: plain(node) as Record<string, unknown> }
  }
}

// Shared by the many leaf elements without attributes (most of a file): fewer objects for the collector.
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({})
const NO_CHILDREN: Node[] = Object.freeze([]) as unknown as Node[]

/** Plain attributes only: namespace declarations are written again where needed. Runs for every element. */
function plainAttributes(tag: SaxesTagNS): Record<string, string> {
  let attributes: Record<string, string> | undefined
  for (const name in tag.attributes) {
    const a = tag.attributes[name] as SaxesTagNS['attributes'][string]
    if (a.prefix !== '' || a.name === 'xmlns') continue
    attributes ??= {}
    attributes[a.local] = a.value
  }
  return attributes ?? NO_ATTRIBUTES
}

export class EspiReader {
  readonly #parser = new SaxesParser({ xmlns: true, position: true })
  readonly #entries: EspiEntry[] = []
  readonly warnings: Warning[] = []
  #stack: Node[] = []
  /** The IntervalReading being read, and the IntervalBlock it belongs to. */
  #reading: IntervalReadingDraft | undefined
  #readingsOf: Node | undefined
  #root: string | undefined
  #error: EspiReadError | undefined

  readonly #maxText: number
  /** Characters since the last `<`: text, or a tag and its attributes, the parser holds whole. */
  #sinceMarkup = 0
  /** How many elements are open. */
  #depth = 0

  constructor(options: { maxText?: number } = {}) {
    const maxText = options.maxText ?? MAX_TEXT
    this.#maxText = maxText
    const p = this.#parser
    const here = (): Position => ({ line: p.line, column: p.column })
    p.on('doctype', () =>
      this.#fail(here(), 'a DOCTYPE is not allowed (it could declare entities or load external files)'),
    )
    p.on('error', (error) => {
      const reason = error.message.replace(/^[^:]*:\d+:\d+: /, '')
      this.#fail(here(), reason)
    })
    p.on('opentag', (tag: SaxesTagNS) => {
      if (this.#error) return
      // Thrown, not noted: the parser's work per element grows with the depth, so it must stop here.
      if (++this.#depth > MAX_DEPTH) {
        this.#fail(here(), `elements nest more than ${MAX_DEPTH} deep`)
        throw this.#error
      }
      if (this.#reading) {
        this.#reading.open(tag.local, here)
        return
      }
      const top = this.#stack.at(-1)
      // An IntervalBlock's readings (entry > content > IntervalBlock > IntervalReading) are read as they stream.
      if (tag.local === 'IntervalReading' && this.#stack.length === 3 && top?.name === 'IntervalBlock') {
        this.#reading = new IntervalReadingDraft(here())
        this.#readingsOf = top
        return
      }
      const node: Node = {
        ns: tag.uri,
        name: tag.local,
        attributes: plainAttributes(tag),
        text: '',
        children: NO_CHILDREN,
        position: here(),
      }
      if (this.#root === undefined) {
        this.#root = tag.local
        if (tag.uri !== ATOM_NS || (tag.local !== 'feed' && tag.local !== 'entry')) {
          this.#fail(
            node.position,
            `a Green Button document is an Atom feed or entry; this one starts with ${tag.name} in namespace "${tag.uri}"`,
          )
          return
        }
        if (tag.local === 'feed') return
      }
      if (tag.uri === ATOM_NS && tag.local === 'entry') this.#stack = []
      const parent = this.#stack.at(-1)
      if (parent) {
        if (parent.children === NO_CHILDREN) parent.children = [node]
        else parent.children.push(node)
      }
      if (this.#stack.length > 0 || (tag.uri === ATOM_NS && tag.local === 'entry')) this.#stack.push(node)
    })
    p.on('text', (text) => {
      if (this.#reading) {
        if (!this.#reading.text(text, maxText))
          this.#fail(here(), tooLongText(`the text of ${this.#reading.current} is`, maxText))
        return
      }
      const top = this.#stack.at(-1)
      if (!top) return
      // Indentation between an element's children is not its text (a week's IntervalBlock holds 10,080
      // readings, a line each): ESPI has no mixed content.
      if (top.children !== NO_CHILDREN && text.trim() === '') return
      // ESPI values are short: an enormous text node is an attack or a broken file, not data to keep.
      if (top.text.length + text.length > maxText)
        this.#fail(here(), tooLongText(`the text of ${top.name} is`, maxText))
      else top.text += text
    })
    p.on('closetag', () => {
      this.#depth--
      if (this.#error) return
      if (this.#reading) {
        const read = this.#reading.close(here)
        if (read && 'reason' in read) this.#fail(read.position, read.reason)
        else if (read) {
          this.#reading = undefined
          const block = this.#readingsOf as Node
          block.readings ??= []
          block.readings.push(read)
        }
        return
      }
      const node = this.#stack.pop()
      if (node && this.#stack.length === 0 && node.ns === ATOM_NS && node.name === 'entry') this.#entry(node)
    })
  }

  /** Where the parser is: the position of a problem found outside it. */
  get position(): Position {
    return { line: this.#parser.line, column: this.#parser.column }
  }

  #fail(position: Position, reason: string): void {
    this.#error ??= new EspiReadError(position, reason)
  }

  #entry(entry: Node): void {
    try {
      const links = entry.children.filter((c) => c.ns === ATOM_NS && c.name === 'link')
      const href = (rel: string) => links.find((l) => l.attributes.rel === rel)?.attributes.href
      const contentNode = entry.children.find((c) => c.ns === ATOM_NS && c.name === 'content')
      const resource = contentNode?.children[0]
      if (!resource) throw new EspiReadError(entry.position, 'entry has no content')
      if (resource.ns === CUSTOMER_NS) {
        this.warnings.push({
          position: resource.position,
          message: `customer resource ${resource.name} skipped: personal data is not imported`,
        })
        return
      }
      if (resource.ns !== ESPI_NS) {
        throw new EspiReadError(
          resource.position,
          `content ${resource.name} is in namespace "${resource.ns}", not ${ESPI_NS}`,
        )
      }
      const text = (name: string) =>
        entry.children.find((c) => c.ns === ATOM_NS && c.name === name)?.text.trim()
      const self = href('self')
      const up = href('up')
      const published = text('published')
      const updated = text('updated')
      for (const [name, value] of [
        ['published', published],
        ['updated', updated],
      ] as const) {
        if (value !== undefined && Number.isNaN(Date.parse(value))) {
          throw new EspiReadError(entry.position, `${name} "${value}" is not a date-time`)
        }
      }
      let xml: string | undefined
      this.#entries.push({
        atomId: text('id') ?? '',
        title: text('title') ?? '',
        ...(self ? { self } : {}),
        ...(up ? { up } : {}),
        related: links.filter((l) => l.attributes.rel === 'related').map((l) => l.attributes.href ?? ''),
        ...(published ? { published } : {}),
        ...(updated ? { updated } : {}),
        content: content(resource, (w) => this.warnings.push(w)),
        // Written out on first use: an import stores the resource's XML but never an IntervalBlock's,
        // whose readings it takes from `content` (serialising them anyway was a tenth of an import).
        get xml() {
          xml ??= serialize(
            resource,
            '',
            resource.name === 'MeterReading' ? child(resource, 'ReadingType') : undefined,
          )
          return xml
        },
        position: entry.position,
      })
    } catch (error) {
      if (error instanceof EspiReadError) this.#error ??= error
      else throw error
    }
  }

  /** Feeds text; returns the entries completed by it. Throws the first problem found. */
  write(chunk: string): EspiEntry[] {
    if (!this.#error) this.#measure(chunk)
    if (!this.#error) this.#parser.write(chunk)
    if (this.#error) throw this.#error
    return this.#entries.splice(0)
  }

  /**
   * Refuses a run of characters without a `<` longer than a text and a tag may be, before the parser
   * buffers it: text outside the entries, an attribute or a comment is not kept, but the parser holds it
   * whole until it ends.
   */
  #measure(chunk: string): void {
    const limit = 2 * this.#maxText
    let from = 0
    for (;;) {
      const next = chunk.indexOf('<', from)
      const run = this.#sinceMarkup + (next < 0 ? chunk.length : next) - from
      if (run > limit) {
        this.#fail(this.position, tooLongText('a text or tag is', limit))
        return
      }
      if (next < 0) {
        this.#sinceMarkup = run
        return
      }
      this.#sinceMarkup = 0
      from = next + 1
    }
  }

  /** Ends the document; returns the last entries. Throws if it was cut short. */
  close(): EspiEntry[] {
    if (!this.#error) this.#parser.close()
    if (this.#error) throw this.#error
    if (this.#root === undefined) throw new EspiReadError({ line: 1, column: 1 }, 'the document is empty')
    return this.#entries.splice(0)
  }
}

/**
 * The entries of a document read from a stream of chunks, as they complete. The reader's warnings are
 * complete once the iteration ends.
 */
export async function* espiEntries(
  chunks: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
  reader: EspiReader,
): AsyncGenerator<EspiEntry> {
  const decode = utf8Decoder(reader)
  for await (const chunk of chunks) yield* reader.write(decode(chunk))
  yield* reader.write(decode())
  yield* reader.close()
}

/**
 * Text of a stream of chunks, a character split across two of them kept whole; called without a chunk, the
 * end. Bytes that are not UTF-8 are refused at the reader's position.
 */
export function utf8Decoder(reader: EspiReader): (chunk?: string | Uint8Array) => string {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let read = 0
  return (chunk) => {
    if (typeof chunk === 'string') return chunk
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode()
    } catch {
      throw new EspiReadError(reader.position, `the file is not UTF-8 text (after byte ${read})`)
    } finally {
      read += chunk?.length ?? 0
    }
  }
}

/** Reads a whole document from a stream of text chunks. */
export async function readEspi(
  chunks: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
): Promise<{ entries: EspiEntry[]; warnings: Warning[] }> {
  const reader = new EspiReader()
  const entries: EspiEntry[] = []
  for await (const entry of espiEntries(chunks, reader)) entries.push(entry)
  return { entries, warnings: reader.warnings }
}
