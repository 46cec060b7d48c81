import { describe, expect, it } from 'vitest'
import { fifteenMinuteReadings, greenButtonFile } from '../../bench/greenbutton-file.js'
import { EspiReadError, readEspi } from './espi-reader.js'
import { WorkerEspiReader } from './espi-reader-worker.js'

// The reader in a worker (the built one: npm test builds first) gives what the reader in process gives.

/** The text in chunks of `size` bytes, as a request or a file stream hands them over. */
async function* inChunks(text: string, size: number) {
  const bytes = Buffer.from(text)
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

const readInWorker = async (text: string, size = 4096) => {
  const reader = new WorkerEspiReader()
  const entries = []
  for await (const entry of reader.entries(inChunks(text, size))) entries.push(entry)
  return { entries, reader }
}

const refusal = async (text: string, size?: number) => {
  const error = await readInWorker(text, size).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(EspiReadError)
  return error as EspiReadError
}

describe('WorkerEspiReader', () => {
  const feed = greenButtonFile(fifteenMinuteReadings(3))

  it('gives the entries, contents and warnings the reader in process gives, whatever the chunk size', async () => {
    const here = await readEspi([feed])
    for (const size of [7, 4096, 1 << 20]) {
      const { entries, reader } = await readInWorker(feed, size)
      expect(entries.map((e) => [e.self, e.content, e.position])).toEqual(
        here.entries.map((e) => [e.self, e.content, e.position]),
      )
      expect(reader.warnings).toEqual(here.warnings)
    }
  })

  it("leaves the caller's chunks as they were: their bytes are copied to the worker, not taken from them", async () => {
    const bytes = Buffer.from(feed)
    const whole = (async function* () {
      yield bytes
    })()
    const reader = new WorkerEspiReader()
    let read = 0
    for await (const _ of reader.entries(whole)) read++
    expect(read).toBeGreaterThan(0)
    expect(bytes.byteLength).toBe(Buffer.byteLength(feed))
    expect(bytes.toString()).toBe(feed)
    const { entries } = await readInWorker(feed, 1000)
    expect(entries).toHaveLength(read)
  })

  it("keeps every entry's XML but an IntervalBlock's, which no import reads", async () => {
    const here = await readEspi([feed])
    const { entries } = await readInWorker(feed)
    const kinds = entries.map((e) => e.content.kind)
    expect(kinds).toContain('IntervalBlock')
    entries.forEach((entry, i) => {
      if (entry.content.kind === 'IntervalBlock')
        expect(() => entry.xml).toThrow('an IntervalBlock read in a worker keeps its readings only')
      else expect(entry.xml).toBe(here.entries[i]?.xml)
    })
  })

  it('refuses where the reader in process refuses, at the same position', async () => {
    const cut = feed.slice(0, Math.floor(feed.length / 2))
    const expected = await readEspi([cut]).then(
      () => undefined,
      (e: unknown) => e as EspiReadError,
    )
    const error = await refusal(cut, 1000)
    expect([error.position, error.reason]).toEqual([expected?.position, expected?.reason])
  })

  it('refuses bytes that are not UTF-8, naming after which byte', async () => {
    const reader = new WorkerEspiReader()
    const bad = (async function* () {
      yield Buffer.from(feed.slice(0, 300))
      yield Buffer.from([0xff, 0xfe, 0x41])
    })()
    const error = await (async () => {
      for await (const _ of reader.entries(bad));
    })().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(EspiReadError)
    expect((error as EspiReadError).reason).toBe('the file is not UTF-8 text (after byte 300)')
  })

  it('refuses at once, though the client then sends nothing more', async () => {
    const stalled = (async function* () {
      yield Buffer.from('<feed xmlns="http://www.w3.org/2005/Atom"><entry><oops')
      yield Buffer.from(' </entry>')
      await new Promise(() => {}) // a client that never sends the rest
    })()
    const error = await (async () => {
      for await (const _ of new WorkerEspiReader().entries(stalled));
    })().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(EspiReadError)
  })

  it('stops its worker when the reading stops early, and hands on a failing source', async () => {
    const reader = new WorkerEspiReader()
    for await (const _ of reader.entries(inChunks(feed, 512))) break
    const failing = (async function* () {
      yield Buffer.from(feed.slice(0, 200))
      throw new Error('the client went away')
    })()
    await expect(
      (async () => {
        for await (const _ of new WorkerEspiReader().entries(failing));
      })(),
    ).rejects.toThrow('the client went away')
  })
})
