import { describe, expect, it } from 'vitest'
import { ConsentModel } from '../consent/consent-model.js'
import type { AuthorizationRow, GbResourceRow } from '../store/schema.js'
import { dataWindow } from './data-window.js'
import { resourceEntry, UsagePointUris } from './espi-feeds.js'
import { decideFunctionBlock } from './rules.js'

const NOW = Date.parse('2026-11-23T10:00:00Z')
const authorization = (scope: string): AuthorizationRow => ({
  id: 'au_1',
  subscription_id: 'su_1',
  customer_id: 'rc_1',
  client_id: 'tp_1',
  usage_point_ids: '["up_1"]',
  scope,
  period_start: '2026-11-01T00:00:00.000Z',
  period_end: '2027-11-01T00:00:00.000Z',
  status: 'active',
  terminated_at: null,
  created_at: '2026-11-01T00:00:00.000Z',
  updated_at: '2026-11-01T00:00:00.000Z',
})

describe('the function blocks an Authorization’s scope lets its third party read', () => {
  const consent = new ConsentModel()
  const decide = (scope: string, kind: string) =>
    decideFunctionBlock(consent, dataWindow(authorization(scope), NOW), kind)

  it('refuses a kind whose function block the scope leaves out, naming the block it needs', () => {
    expect(decide('FB=4_5_15', 'ElectricPowerQualitySummary')).toMatchObject({
      allowed: false,
      reason:
        "ElectricPowerQualitySummary needs function block 17, which this Authorization's scope (FB=4_5_15) does not include",
    })
    expect(decide('FB=1_3_15', 'IntervalBlock').reason).toBe(
      "IntervalBlock needs function block 4, which this Authorization's scope (FB=1_3_15) does not include",
    )
    expect(decide('FB=4_5', 'UsageSummary').reason).toMatch(/^UsageSummary needs function block 15 or 16,/)
  })

  it('allows the kinds the scope names, and the core every scope includes', () => {
    expect(decide('FB=4_5_15', 'ElectricPowerUsageSummary').allowed).toBe(true)
    expect(decide('FB=4_5_16', 'UsageSummary').allowed).toBe(true)
    expect(decide('FB=4_5_15', 'IntervalBlock').allowed).toBe(true)
    for (const kind of ['UsagePoint', 'MeterReading', 'ReadingType', 'LocalTimeParameters'])
      expect(decide('FB=1_3', kind).allowed, kind).toBe(true)
  })
})

describe('the links of a usage point and its summaries', () => {
  const uris = new UsagePointUris('https://u.example/espi/1_1/resource', 'https://u.example/s/su_1', 'p1')
  const row = (kind: string, id: string): GbResourceRow => ({
    id,
    kind,
    usage_point_id: 'up_1',
    source: '',
    link_id: null,
    interval_length: null,
    title: '',
    content: '',
    published: 0,
    updated: 0,
  })
  const links = (text: string, rel: string) =>
    [...text.matchAll(new RegExp(`<link rel="${rel}" href="([^"]+)"`, 'g'))].map((m) => m[1])

  it('names the usage summaries ElectricPowerUsageSummary from both sides, whatever the file called them', () => {
    const related = links(resourceEntry(row('UsagePoint', 'p1'), uris), 'related')
    expect(related).toContain('https://u.example/s/su_1/UsagePoint/p1/ElectricPowerUsageSummary')
    for (const kind of ['UsageSummary', 'ElectricPowerUsageSummary']) {
      const summary = resourceEntry(row(kind, 's1'), uris)
      expect(links(summary, 'up')).toEqual([
        'https://u.example/s/su_1/UsagePoint/p1/ElectricPowerUsageSummary',
      ])
      expect(links(summary, 'self')).toEqual([
        'https://u.example/s/su_1/UsagePoint/p1/ElectricPowerUsageSummary/s1',
      ])
    }
  })
})
