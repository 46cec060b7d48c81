import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { entry, feedEnd, feedStart, intervalBlockContent } from '../../src/greenbutton/atom-writer.js'
import { ESPI_NS } from '../../src/greenbutton/namespaces.js'
import { checkEspiConformance } from '../support/espi-conformance.js'

/**
 * The conformance suite finds what the CMD suite would: a data custodian that breaks each rule once, served
 * from fixed documents, and every break reported (a suite that passes everything proves nothing).
 */
describe('the ESPI conformance suite itself', () => {
  let server: Server
  let base = ''
  const documents = new Map<string, string>()
  const id = (n: number) => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`

  beforeAll(async () => {
    server = createServer((request, response) => {
      const body = documents.get(request.url ?? '')
      const status = request.headers.authorization !== 'Bearer t' ? 401 : body ? 200 : 404
      response.writeHead(status, { 'content-type': 'application/atom+xml' }).end(status === 200 ? body : '')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const root = '/espi/1_1/resource'
    const point = `${root}/Subscription/s/UsagePoint/1`
    const times = { title: '', published: 0, updated: 0 }
    const resources = [
      {
        // No LocalTimeParameters; its summaries under another name than theirs.
        id: id(1),
        self: point,
        up: `${root}/Subscription/s/UsagePoint`,
        related: [`${point}/MeterReading`, `${point}/UsageSummary`],
        content: `<UsagePoint xmlns="${ESPI_NS}"/>`,
      },
      {
        // Not a UUID, and no ReadingType.
        id: 'urn:uuid:mr_1',
        self: `${point}/MeterReading/1`,
        up: `${point}/MeterReading`,
        related: [`${point}/MeterReading/1/IntervalBlock`],
        content: `<MeterReading xmlns="${ESPI_NS}"/>`,
      },
      {
        // A reading a day after its block.
        id: id(3),
        self: `${point}/MeterReading/1/IntervalBlock/0`,
        up: `${point}/MeterReading/1/IntervalBlock`,
        content: intervalBlockContent({ start: 0, duration: 3600 }, [
          { start: 0, duration: 900, value: 1, qualities: [] },
          { start: 86_400, duration: 900, value: 2, qualities: [] },
        ]),
      },
      {
        id: id(4),
        self: `${point}/ElectricPowerUsageSummary/1`,
        up: `${point}/ElectricPowerUsageSummary`,
        content: `<ElectricPowerUsageSummary xmlns="${ESPI_NS}"/>`,
      },
    ]
    // Links are absolute, on this server.
    const placed = (r: (typeof resources)[number]) => ({
      ...times,
      ...r,
      self: `${base}${r.self}`,
      up: `${base}${r.up}`,
      related: (r.related ?? []).map((l) => `${base}${l}`),
    })
    const feed = (self: string, members: typeof resources) =>
      feedStart({ id: id(99), title: '', updated: 0, self: `${base}${self}` }) +
      members.map((r) => entry(placed(r))).join('') +
      feedEnd()
    for (const r of resources) {
      documents.set(r.self, entry(placed(r), true))
      documents.set(r.up, feed(r.up, [r]))
    }
    documents.set(`${root}/Batch/Subscription/s`, feed(`${root}/Batch/Subscription/s`, resources))
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  it('reports each rule the feed breaks', async () => {
    const { violations } = await checkEspiConformance(`${base}/espi/1_1/resource/Batch/Subscription/s`, 't')
    const point = `${base}/espi/1_1/resource/Subscription/s/UsagePoint/1`
    expect(violations.map((v) => [v.rule, v.message]).sort()).toEqual(
      [
        ['context', 'a MeterReading with no related link to its ReadingType'],
        ['context', 'a UsagePoint with no related link to its LocalTimeParameters'],
        ['id', 'id urn:uuid:mr_1 is not a urn:uuid of a valid UUID'],
        ['interval', "1 readings lie outside the block's interval [0, 3600)"],
        ['resolvable', 'answers 404'],
        [
          'summary',
          `a UsagePoint whose related links do not name its summaries (${point}/ElectricPowerUsageSummary)`,
        ],
      ].sort(),
    )
    expect(violations.find((v) => v.rule === 'resolvable')?.where).toBe(`${point}/UsageSummary`)
  })

  it('reports a link that answers another resource, and a token that is refused', async () => {
    const point = '/espi/1_1/resource/Subscription/s/UsagePoint/1'
    const original = documents.get(point) as string
    documents.set(point, original.replace(id(1), id(5)))
    try {
      const { violations } = await checkEspiConformance(`${base}/espi/1_1/resource/Batch/Subscription/s`, 't')
      expect(violations).toContainEqual(
        expect.objectContaining({ rule: 'id', message: `the resource has two ids: ${id(1)} and ${id(5)}` }),
      )
    } finally {
      documents.set(point, original)
    }
    const refused = await checkEspiConformance(`${base}/espi/1_1/resource/Batch/Subscription/s`, 'wrong')
    expect(refused.violations.map((v) => v.message)).toEqual(['answers 401'])
  })
})
