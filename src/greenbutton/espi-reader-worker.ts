import { getPriority, setPriority } from 'node:os'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import {
  type EspiEntry,
  EspiReadError,
  EspiReader,
  type Position,
  utf8Decoder,
  type Warning,
} from './espi-reader.js'

/**
 * A Green Button document read in a worker thread, its entries handed back as they complete, so that parsing
 * (the larger half of an import) runs beside the storing of what was parsed, not before it, and off the
 * event loop of a server. The worker runs at a lower priority (on Linux a thread's own), so a server's
 * requests go first on shared cores.
 *
 * The worker is the built module (dist/greenbutton/espi-reader-worker.js), also when this one runs from the
 * sources (tests run after `npm run build`): from either place the path below leads there.
 */
const WORKER_FILE = new URL('../../dist/greenbutton/espi-reader-worker.js', import.meta.url)
const ROLE = 'espi-reader'
/** The worker's nice value: parsing is batch work. */
const WORKER_NICE = 10
/**
 * Bytes (or characters) handed to the worker and not yet read: enough to keep it busy while this thread
 * stores what it read (an import's chunks are slices of 32 KiB), little enough to bound memory.
 */
const AHEAD = 1 << 20

type ToWorker = { chunk: string | Uint8Array } | { end: true }
type FromWorker =
  | { entries: Portable[]; done?: { position: Position; warnings: Warning[] } }
  | { refused: { position: Position; reason: string } }
  | { failed: string }

/** An entry as it crosses to the main thread: an IntervalBlock's XML, which no import reads, stays behind. */
type Portable = Omit<EspiEntry, 'xml'> & { xml?: string }

const portable = (entry: EspiEntry): Portable => {
  // Copied key by key: destructuring or spreading would read `xml`, whose getter serialises the element.
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(entry)) if (key !== 'xml') copy[key] = entry[key as keyof EspiEntry]
  if (entry.content.kind !== 'IntervalBlock') copy.xml = entry.xml
  return copy as Portable
}

const restored = (entry: Portable): EspiEntry => {
  if (entry.xml !== undefined) return entry as EspiEntry
  return Object.defineProperty(entry, 'xml', {
    get() {
      throw new Error('an IntervalBlock read in a worker keeps its readings only, not its XML')
    },
  }) as EspiEntry
}

/** The entries of a document read in a worker; `position` and `warnings` are the reader's once they end. */
export class WorkerEspiReader {
  readonly #maxText: number | undefined
  position: Position = { line: 1, column: 1 }
  warnings: Warning[] = []

  constructor(options: { maxText?: number } = {}) {
    this.#maxText = options.maxText
  }

  async *entries(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<EspiEntry> {
    const worker = new Worker(WORKER_FILE, { workerData: { role: ROLE, maxText: this.#maxText } })
    const inbox: (FromWorker | { crashed: Error } | { source: unknown })[] = []
    let wake: (() => void) | undefined
    const deliver = (message: (typeof inbox)[number]) => {
      inbox.push(message)
      wake?.()
    }
    worker.on('message', deliver)
    worker.on('error', (error) => deliver({ crashed: error }))
    worker.on('exit', (code) =>
      deliver({ crashed: new Error(`the reader's worker stopped (exit code ${code})`) }),
    )
    const send = (message: ToWorker) => worker.postMessage(message)
    // A chunk is often a view of a larger buffer (a slice of a read), and a message copies a view's whole
    // buffer: its own bytes are copied once, into a buffer handed over without another copy.
    const sendChunk = (chunk: string | Uint8Array) => {
      if (typeof chunk === 'string') return send({ chunk })
      const own = new Uint8Array(chunk)
      worker.postMessage({ chunk: own } satisfies ToWorker, [own.buffer])
    }

    /** The size of each chunk sent and not yet answered, oldest first. */
    const sizes: number[] = []
    let ahead = 0
    let resume: (() => void) | undefined
    let stopped = false
    void (async () => {
      for await (const chunk of chunks) {
        if (stopped) return
        sendChunk(chunk)
        sizes.push(chunk.length)
        ahead += chunk.length
        while (ahead >= AHEAD && !stopped) await new Promise<void>((resolve) => (resume = resolve))
      }
      if (!stopped) send({ end: true })
    })().catch((error: unknown) => deliver({ source: error }))

    try {
      for (;;) {
        while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve))
        const message = inbox.shift() as (typeof inbox)[number]
        if ('source' in message) throw message.source
        if ('crashed' in message) throw message.crashed
        if ('failed' in message) throw new Error(`reading the document failed: ${message.failed}`)
        if ('refused' in message) {
          this.position = message.refused.position
          throw new EspiReadError(message.refused.position, message.refused.reason)
        }
        for (const entry of message.entries) yield restored(entry)
        if (message.done) {
          this.position = message.done.position
          this.warnings = message.done.warnings
          return
        }
        ahead -= sizes.shift() ?? 0
        resume?.()
        // The worker may be a megabyte ahead: other requests get a turn between its answers, not after all.
        if (inbox.length > 0) await new Promise<void>((resolve) => setImmediate(resolve))
      }
    } finally {
      // The feeder stops at its next chunk; a refusal is not held back until a slow client sends one.
      stopped = true
      resume?.()
      await worker.terminate()
    }
  }
}

/** The worker: one reader, fed chunk by chunk; each answer carries the entries the chunk completed. */
function serveAsReader(maxText: number | undefined) {
  const port = parentPort
  if (!port) return
  try {
    // Only ever lowered: a thread already nicer (an import run with --nice 19) stays as it is.
    if (WORKER_NICE > getPriority()) setPriority(WORKER_NICE)
  } catch {
    // Not allowed here: the worker runs at the process's priority.
  }
  const reader = new EspiReader(maxText === undefined ? {} : { maxText })
  const decode = utf8Decoder(reader)
  const answer = (message: FromWorker) => port.postMessage(message)
  port.on('message', (message: ToWorker) => {
    try {
      if ('chunk' in message) {
        answer({ entries: reader.write(decode(message.chunk)).map(portable) })
        return
      }
      const entries = [...reader.write(decode()), ...reader.close()].map(portable)
      answer({ entries, done: { position: reader.position, warnings: reader.warnings } })
    } catch (error) {
      answer(
        error instanceof EspiReadError
          ? { refused: { position: error.position, reason: error.reason } }
          : { failed: error instanceof Error ? (error.stack ?? error.message) : String(error) },
      )
    }
  })
}

if (!isMainThread && workerData?.role === ROLE) serveAsReader(workerData.maxText)
