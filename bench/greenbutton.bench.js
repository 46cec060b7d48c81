// Green Button serving (issue 5): one year of 15-minute readings for one usage point as ESPI Atom XML, and a
// Batch/Bulk feed of 1,000 usage points, both served over real HTTP by a bare Fastify server in this process.
// Run after a build: `npx tsc -p tsconfig.build.json && node --expose-gc bench/greenbutton.bench.js`.
//
// Baseline (house rule: a ratio against something measured in the same run, since absolute times drift on
// shared machines): the bare framework sending the same readings, read from the same store, as JSON.
// Targets: the year in under 200 ms; the bulk feed in constant memory, which shows as the same peak heap
// growth for a feed of 100 usage points as for one of 1,000.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import Fastify from 'fastify'
import { feedEnd, feedStart } from '../dist/greenbutton/atom-writer.js'
import { dataWindow } from '../dist/greenbutton/data-window.js'
import { usagePointTree } from '../dist/greenbutton/espi-feeds.js'
import { openStore } from '../dist/store/store.js'

const YEAR_DAYS = 365
const BULK_POINTS = 1_000
const BULK_SMALL = 100 // the feed whose memory growth the full bulk is compared with
const BULK_DAYS = Number(process.env.BULK_DAYS ?? 7)
const INTERVAL = 900 // 15 minutes
const PER_DAY = 86_400 / INTERVAL // 96
const YEAR_RUNS = 10
const BULK_RUNS = 3
const SAMPLE_MS = 5
// Usage points written per import transaction while seeding: one commit per point would dominate set-up.
const SEED_BATCH = 100

const BASE = 'https://utility.example/espi/1_1/resource'
const SUBSCRIPTION = `${BASE}/Subscription/bench`
const FIRST_DAY = Date.UTC(2025, 0, 1) / 1000 // epoch seconds, as ESPI writes times
const PUBLISHED = Date.UTC(2026, 0, 1) // epoch ms
const ESPI = 'http://naesb.org/espi'

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc so memory is measured from a collected heap')
  process.exit(2)
}

// ---- the store -------------------------------------------------------------------------------------------

// One usage point with its reading type, one 15-minute meter reading, and `days` daily blocks of readings.
// Values vary with the interval, the day and the point, so the XML is not one repeated string.
async function seedPoint(writer, usagePointId, days, salt) {
  const resource = (kind, source, title, content, extra = {}) =>
    writer.putResource({ usagePointId, kind, source, title, content, ...extra }, PUBLISHED)
  await resource(
    'UsagePoint',
    '',
    usagePointId,
    `<UsagePoint xmlns="${ESPI}"><ServiceCategory><kind>0</kind></ServiceCategory></UsagePoint>`,
  )
  const readingType = await resource(
    'ReadingType',
    'ReadingType/1',
    'Energy, Wh, 15 min',
    `<ReadingType xmlns="${ESPI}"><intervalLength>${INTERVAL}</intervalLength></ReadingType>`,
  )
  const meterReading = await resource(
    'MeterReading',
    'MeterReading/1',
    '',
    `<MeterReading xmlns="${ESPI}"/>`,
    {
      linkId: readingType.id,
      intervalLength: INTERVAL,
    },
  )
  for (let day = 0; day < days; day++) {
    const dayStart = FIRST_DAY + day * 86_400
    const readings = []
    for (let k = 0; k < PER_DAY; k++) {
      const value = 200 + ((k * 37 + day * 11 + salt * 7) % 900)
      readings.push({ start: dayStart + k * INTERVAL, duration: INTERVAL, value, qualities: [] })
    }
    await writer.putBlock(meterReading.id, { start: dayStart, duration: 86_400 }, readings)
  }
  return meterReading.id
}

const dir = mkdtempSync(join(tmpdir(), 'custodian-gb-bench-'))
const store = await openStore(join(dir, 'bench.db'))
const fmt = (n) => Math.round(n).toLocaleString('en-US')
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]

try {
  const seedStart = performance.now()
  const yearPoint = 'up-year'
  const bulkPoints = Array.from({ length: BULK_POINTS }, (_, i) => `up-${String(i + 1).padStart(4, '0')}`)
  const meterReadingOf = new Map() // usage point -> meter reading id, for the JSON baseline
  await store.usage.importing(PUBLISHED, async (writer) => {
    meterReadingOf.set(yearPoint, await seedPoint(writer, yearPoint, YEAR_DAYS, 0))
  })
  for (let i = 0; i < bulkPoints.length; i += SEED_BATCH) {
    await store.usage.importing(PUBLISHED, async (writer) => {
      for (const [k, id] of bulkPoints.slice(i, i + SEED_BATCH).entries()) {
        meterReadingOf.set(id, await seedPoint(writer, id, BULK_DAYS, i + k + 1))
      }
    })
  }
  const seedMs = performance.now() - seedStart
  const yearReadings = YEAR_DAYS * PER_DAY
  const bulkReadingsPerPoint = BULK_DAYS * PER_DAY

  // One active authorization over every point, scope with Interval Metering (FB 4), no history limit.
  const now = Date.now()
  const window = dataWindow(
    {
      id: 'auth-bench',
      subscription_id: 'bench',
      customer_id: 'customer-bench',
      client_id: 'client-bench',
      usage_point_ids: JSON.stringify([yearPoint, ...bulkPoints]),
      scope: 'FB=1_3_4_5_15',
      period_start: '2024-01-01T00:00:00.000Z',
      period_end: '9999-01-01T00:00:00.000Z',
      status: 'active',
      terminated_at: null,
      created_at: '2024-01-01T00:00:00.000Z',
      updated_at: '2024-01-01T00:00:00.000Z',
    },
    now,
  )
  const context = { store: store.usage, base: BASE, filter: {}, depth: 3 }

  // ---- the server --------------------------------------------------------------------------------------

  // As espi-routes.ts sendFeed does: the feed head, the entries (skipping the '' of a hidden resource), the
  // tail, streamed through Readable.from so that nothing is held beyond the entry being written.
  async function* feed(title, points) {
    yield feedStart({ id: 'urn:uuid:00000000-0000-4000-8000-000000000000', title, updated: now, self: BASE })
    for (const id of points) {
      for await (const text of usagePointTree(context, window, SUBSCRIPTION, id)) if (text !== '') yield text
    }
    yield feedEnd()
  }
  const bulkSlice = (request) => bulkPoints.slice(0, Number(request.query.n ?? BULK_POINTS))

  const app = Fastify({ logger: false })
  const ATOM = 'application/atom+xml'
  app.get('/year.xml', (_request, reply) =>
    reply.type(ATOM).send(Readable.from(feed('Green Button Usage Point Feed', [yearPoint]))),
  )
  // Baseline: the bare framework, the same rows from the same store, serialised as JSON by Fastify.
  app.get('/year.json', async () =>
    store.usage.readings(meterReadingOf.get(yearPoint), window.from, window.to, 100_000),
  )
  app.get('/bulk.xml', (request, reply) =>
    reply.type(ATOM).send(Readable.from(feed('Green Button Bulk Feed', bulkSlice(request)))),
  )
  // Baseline for the bulk: each point's readings as one JSON array, streamed one point at a time.
  app.get('/bulk.json', (request, reply) => {
    async function* arrays() {
      yield '['
      for (const [k, id] of bulkSlice(request).entries()) {
        const rows = await store.usage.readings(meterReadingOf.get(id), window.from, window.to, 100_000)
        yield `${k === 0 ? '' : ','}${JSON.stringify(rows)}`
      }
      yield ']'
    }
    return reply.type('application/json').send(Readable.from(arrays()))
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const origin = `http://127.0.0.1:${app.server.address().port}`

  // ---- the client --------------------------------------------------------------------------------------

  async function fetchWhole(path) {
    const start = performance.now()
    const response = await fetch(`${origin}${path}`)
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`)
    const body = Buffer.from(await response.arrayBuffer())
    return { ms: performance.now() - start, body }
  }

  const countOf = (text, needle) => {
    let count = 0
    for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++
    return count
  }

  // Reads the body a chunk at a time and drops it, counting readings across chunk boundaries (so the bench
  // cannot pass on an empty feed), while heap and RSS are sampled every SAMPLE_MS and at every chunk.
  async function fetchStreamed(path, needle) {
    globalThis.gc()
    const before = process.memoryUsage()
    let peakHeap = before.heapUsed
    let peakRss = before.rss
    const sample = () => {
      const m = process.memoryUsage()
      if (m.heapUsed > peakHeap) peakHeap = m.heapUsed
      if (m.rss > peakRss) peakRss = m.rss
    }
    const timer = setInterval(sample, SAMPLE_MS)
    const start = performance.now()
    let bytes = 0
    let count = 0
    let tail = ''
    try {
      const response = await fetch(`${origin}${path}`)
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`)
      const decoder = new TextDecoder()
      for await (const chunk of response.body) {
        bytes += chunk.length
        const text = tail + decoder.decode(chunk, { stream: true })
        count += countOf(text, needle)
        tail = text.slice(-(needle.length - 1))
        sample()
      }
    } finally {
      clearInterval(timer)
    }
    const ms = performance.now() - start
    globalThis.gc()
    const after = process.memoryUsage()
    return {
      ms,
      bytes,
      count,
      heapGrowth: peakHeap - before.heapUsed,
      rssGrowth: peakRss - before.rss,
      retained: after.heapUsed - before.heapUsed,
    }
  }

  console.log(`node ${process.version}; SQLite store in ${dir}`)
  console.log(
    `seeded ${fmt(yearReadings)} readings for ${yearPoint} and ${fmt(BULK_POINTS * bulkReadingsPerPoint)} for ` +
      `${fmt(BULK_POINTS)} bulk points (${BULK_DAYS} days each) in ${(seedMs / 1000).toFixed(1)} s`,
  )

  // ---- 1. one year, one usage point -------------------------------------------------------------------

  const intervalTag = '<IntervalReading>'
  const xmlCheck = await fetchWhole('/year.xml')
  const xmlCount = countOf(xmlCheck.body.toString('utf8'), intervalTag)
  if (xmlCount !== yearReadings)
    throw new Error(`year XML has ${xmlCount} IntervalReading, want ${yearReadings}`)
  const jsonCheck = await fetchWhole('/year.json')
  const jsonCount = JSON.parse(jsonCheck.body.toString('utf8')).length
  if (jsonCount !== yearReadings) throw new Error(`year JSON has ${jsonCount} readings, want ${yearReadings}`)
  // Warm-up, then interleaved timed runs so machine noise hits both alike.
  for (let i = 0; i < 3; i++) {
    await fetchWhole('/year.xml')
    await fetchWhole('/year.json')
  }
  const xmlTimes = []
  const jsonTimes = []
  for (let i = 0; i < YEAR_RUNS; i++) {
    globalThis.gc()
    xmlTimes.push((await fetchWhole('/year.xml')).ms)
    globalThis.gc()
    jsonTimes.push((await fetchWhole('/year.json')).ms)
  }
  const xmlBest = Math.min(...xmlTimes)
  const jsonBest = Math.min(...jsonTimes)
  console.log(
    `\n1. one year of 15-minute data, one usage point (${fmt(yearReadings)} readings, ${YEAR_RUNS} runs)`,
  )
  console.log(
    `  XML  (usagePointTree, streamed)  best ${xmlBest.toFixed(1).padStart(6)} ms  median ` +
      `${median(xmlTimes).toFixed(1).padStart(6)} ms  ${fmt(xmlCheck.body.length).padStart(11)} bytes  ` +
      `${xmlCount} <IntervalReading>`,
  )
  console.log(
    `  JSON (bare Fastify, baseline)    best ${jsonBest.toFixed(1).padStart(6)} ms  median ` +
      `${median(jsonTimes).toFixed(1).padStart(6)} ms  ${fmt(jsonCheck.body.length).padStart(11)} bytes`,
  )
  console.log(
    `  XML / JSON: ${(xmlBest / jsonBest).toFixed(2)}x (best), ` +
      `${(median(xmlTimes) / median(jsonTimes)).toFixed(2)}x (median)`,
  )
  const yearMet = xmlBest < 200
  console.log(`  target (year in < 200 ms): ${yearMet ? 'MET' : 'NOT MET'} [best ${xmlBest.toFixed(1)} ms]`)

  // ---- 2. Batch/Bulk -----------------------------------------------------------------------------------

  // Warm-up on a small feed, then the two sizes interleaved; the median run of each is reported.
  await fetchStreamed(`/bulk.xml?n=${BULK_SMALL}`, intervalTag)
  await fetchStreamed(`/bulk.json?n=${BULK_SMALL}`, '"start"')
  const runs = { xml: { [BULK_SMALL]: [], [BULK_POINTS]: [] }, json: { [BULK_SMALL]: [], [BULK_POINTS]: [] } }
  for (let i = 0; i < BULK_RUNS; i++) {
    for (const n of [BULK_SMALL, BULK_POINTS]) {
      const xml = await fetchStreamed(`/bulk.xml?n=${n}`, intervalTag)
      if (xml.count !== n * bulkReadingsPerPoint)
        throw new Error(`bulk XML of ${n} has ${xml.count} IntervalReading, want ${n * bulkReadingsPerPoint}`)
      runs.xml[n].push(xml)
      const json = await fetchStreamed(`/bulk.json?n=${n}`, '"start"')
      if (json.count !== n * bulkReadingsPerPoint)
        throw new Error(`bulk JSON of ${n} has ${json.count} readings, want ${n * bulkReadingsPerPoint}`)
      runs.json[n].push(json)
    }
  }
  const pick = (list, key) => median(list.map((r) => r[key]))
  console.log(
    `\n2. Batch/Bulk, ${BULK_DAYS} days of 15-minute data per usage point (${fmt(bulkReadingsPerPoint)} readings), ` +
      `median of ${BULK_RUNS} runs; memory = peak over the pre-request heap, sampled every ${SAMPLE_MS} ms`,
  )
  for (const n of [BULK_SMALL, BULK_POINTS]) {
    const readings = n * bulkReadingsPerPoint
    for (const [kind, label] of [
      ['xml', 'XML  (usagePointTree)'],
      ['json', 'JSON (bare Fastify)  '],
    ]) {
      const list = runs[kind][n]
      const ms = pick(list, 'ms')
      console.log(
        `  ${String(n).padStart(5)} points ${label} ${ms.toFixed(0).padStart(6)} ms  ` +
          `${fmt((readings / ms) * 1000).padStart(9)} readings/s  ${mb(pick(list, 'bytes')).padStart(9)}  ` +
          `heap +${mb(pick(list, 'heapGrowth'))}  rss +${mb(pick(list, 'rssGrowth'))}  ` +
          `retained after gc ${mb(pick(list, 'retained'))}`,
      )
    }
  }
  const xmlBulkMs = pick(runs.xml[BULK_POINTS], 'ms')
  const jsonBulkMs = pick(runs.json[BULK_POINTS], 'ms')
  const growthSmall = pick(runs.xml[BULK_SMALL], 'heapGrowth')
  const growthFull = pick(runs.xml[BULK_POINTS], 'heapGrowth')
  const growthRatio = growthFull / growthSmall
  console.log(`  XML / JSON (${fmt(BULK_POINTS)} points): ${(xmlBulkMs / jsonBulkMs).toFixed(2)}x`)
  console.log(
    `  XML peak heap growth ${fmt(BULK_POINTS)} / ${fmt(BULK_SMALL)} points: ${growthRatio.toFixed(2)} ` +
      `(constant memory ~1; ${BULK_POINTS / BULK_SMALL} if it grew with the feed)`,
  )
  // "About the same": within 2x allows for the collector's timing; memory that followed the feed would be 10x.
  const bulkMet = growthRatio < 2
  console.log(`  target (bulk feed in constant memory): ${bulkMet ? 'MET' : 'NOT MET'}`)

  await app.close()
} finally {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
}
