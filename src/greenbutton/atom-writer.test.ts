import { describe, expect, it } from 'vitest'
import { validateGreenButton } from '../../test/support/xmllint.js'
import { xmlText } from '../xml/xml-text.js'
import {
  applicationInformationContent,
  authorizationContent,
  entry,
  feedEnd,
  feedStart,
  intervalBlockContent,
} from './atom-writer.js'
import { readEspi } from './espi-reader.js'

const BASE = 'https://custodian.example/espi/1_1/resource'
const AT = Date.UTC(2012, 9, 24, 0, 0, 0, 345)
const USAGE_POINT =
  '<UsagePoint xmlns="http://naesb.org/espi"><ServiceCategory><kind>0</kind></ServiceCategory></UsagePoint>'
const readings = [
  { start: 1351036800, duration: 900, value: 974, cost: 129, qualities: [8, 17] },
  { start: 1351037700, duration: 900, value: 0, cost: null, qualities: [] },
  { start: 1351038600, duration: 900, value: -12, qualities: [14] },
]

const expectValid = async (xml: string) => {
  const result = await validateGreenButton(xml)
  expect(result.errors).toBe('')
  expect(result.valid).toBe(true)
}

function usageFeed(title = 'Green Button Subscription Feed', self = `${BASE}/Subscription/1`): string {
  const up = `${BASE}/RetailCustomer/9/UsagePoint`
  return [
    feedStart({ id: 'urn:uuid:15b0a4ed-ccf4-4521-a0a1-9ff650ec8a6b', title, updated: new Date(AT), self }),
    entry({
      id: 'urn:uuid:48c2a019-5598-4e16-b0f9-49e4ff27f5fb',
      self: `${up}/1`,
      up,
      related: [`${up}/1/MeterReading`, `${BASE}/LocalTimeParameters/1`],
      title: 'Home',
      published: AT,
      updated: AT,
      content: USAGE_POINT,
    }),
    entry({
      id: 'urn:uuid:7c4aa3b4-6b0c-4b0c-8d0a-0d2c4a1d9e01',
      self: `${up}/1/MeterReading/1/IntervalBlock/1`,
      up: `${up}/1/MeterReading/1/IntervalBlock`,
      title: '',
      published: AT,
      updated: AT,
      content: intervalBlockContent({ start: 1351036800, duration: 2700 }, readings),
    }),
    feedEnd(),
  ].join('')
}

/** A standalone entry of a resource at `${BASE}/<kind>/<id>`. */
const standalone = (kind: string, id: string, uuid: string, title: string, content: string) =>
  entry(
    {
      id: `urn:uuid:${uuid}`,
      self: `${BASE}/${kind}/${id}`,
      up: `${BASE}/${kind}`,
      title,
      published: AT,
      updated: AT,
      content,
    },
    true,
  )

const authorization = () =>
  standalone(
    'Authorization',
    'a1',
    '22222222-2222-2222-2222-222222222222',
    'Authorization',
    authorizationContent({
      authorizedPeriod: { start: 1600000000, duration: 31536000 },
      publishedPeriod: { start: 1500000000, duration: 100000000 },
      status: 'terminated',
      grantType: 'authorization_code',
      scope: 'FB=1_3_4_5_13_14_39;IntervalDuration=900;BlockDuration=daily;HistoryLength=13',
      resourceURI: `${BASE}/Batch/Subscription/s1`,
      authorizationURI: `${BASE}/Authorization/a1`,
    }),
  )

const applicationInformation = () =>
  standalone(
    'ApplicationInformation',
    'tp1',
    '11111111-1111-1111-1111-111111111111',
    'Energy & Co',
    applicationInformationContent({
      clientId: 'tp1',
      name: 'Energy & Co <beta>',
      description: 'Shows your usage by the hour',
      notifyUri: 'https://tp.example/espi/1_1/Notification',
      redirectUris: ['https://tp.example/callback', 'https://tp.example/other?a=1&b=2'],
      scope: ['FB=1_3_4_5_13_14_39;IntervalDuration=900;BlockDuration=daily;HistoryLength=13'],
      thirdPartyScopeSelectionScreenURI: 'https://tp.example/scope',
      standing: 'active',
      dataCustodianId: 'custodian',
      dataCustodianBulkRequestURI: `${BASE}/Batch/Bulk`,
      dataCustodianResourceEndpoint: BASE,
      authorizationServerAuthorizationEndpoint: 'https://custodian.example/oauth/authorize',
      authorizationServerTokenEndpoint: 'https://custodian.example/oauth/token',
      registrationClientUri: `${BASE}/ApplicationInformation/tp1`,
      clientIdIssuedAt: 1600000000,
    }),
  )

describe('writing Green Button Atom', () => {
  it('writes a feed of a usage point and an interval block that validates', async () => {
    const xml = usageFeed()
    expect(xml).toContain('<updated>2012-10-24T00:00:00Z</updated>')
    expect(xml).toContain(
      '<IntervalReading><cost>129</cost><ReadingQuality><quality>8</quality></ReadingQuality><ReadingQuality><quality>17</quality></ReadingQuality><timePeriod><duration>900</duration><start>1351036800</start></timePeriod><value>974</value></IntervalReading>',
    )
    await expectValid(xml)
  })

  it('writes what the reader reads back', async () => {
    const { entries } = await readEspi(
      (async function* () {
        yield usageFeed()
      })(),
    )
    expect(entries.map((e) => e.related.length)).toEqual([2, 0])
    expect(entries[1]?.content).toEqual({
      kind: 'IntervalBlock',
      interval: { start: 1351036800, duration: 2700 },
      readings: readings.map(({ cost, ...r }) => (cost == null ? r : { ...r, cost })),
    })
  })

  it('writes a standalone Authorization entry that validates, with the ESPI status code', async () => {
    const xml = authorization()
    expect(
      xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<entry xmlns="http://www.w3.org/2005/Atom"'),
    ).toBe(true)
    // Terminated is Revoked (0) in ESPI; expires_at defaults to the end of the authorized period.
    expect(xml).toContain('<status>0</status><expires_at>1631536000</expires_at>')
    await expectValid(xml)
  })

  it('writes a standalone ApplicationInformation entry that validates, without any credential', async () => {
    const xml = applicationInformation()
    expect(xml).toContain('<client_secret/>')
    expect(xml).toContain('<registration_access_token/>')
    expect(xml).toContain('<dataCustodianApplicationStatus>2</dataCustodianApplicationStatus>')
    await expectValid(xml)
  })

  it('escapes text and attribute values', async () => {
    expect(xmlText(`a<b & "c" 'd'>\u0001`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\uFFFD')
    const xml = usageFeed('Usage <&"> of "home"', `${BASE}/Subscription/1?a="1"&b=<2>`)
    expect(xml).toContain('<title>Usage &lt;&amp;&quot;&gt; of &quot;home&quot;</title>')
    expect(xml).toContain(`href="${BASE}/Subscription/1?a=&quot;1&quot;&amp;b=&lt;2&gt;"`)
    await expectValid(xml)
  })

  it('refuses to write a number that would not validate', () => {
    expect(() =>
      intervalBlockContent({ start: 0, duration: 900 }, [
        { start: 0, duration: 900, value: 1.5, qualities: [] },
      ]),
    ).toThrow('value must be a whole number, not 1.5')
  })

  it('reports a document that does not validate, so the validator can fail', async () => {
    const xml = usageFeed().replace('<value>974</value>', '<value>lots</value>')
    const result = await validateGreenButton(xml)
    expect(result.valid).toBe(false)
    expect(result.errors).toMatch(/value.*lots/)
    const outOfOrder = usageFeed().replace(
      '<cost>129</cost><ReadingQuality><quality>8</quality></ReadingQuality>',
      '<ReadingQuality><quality>8</quality></ReadingQuality><cost>129</cost>',
    )
    expect((await validateGreenButton(outOfOrder)).valid).toBe(false)
    expect((await validateGreenButton('<feed')).valid).toBe(false)
  })
})
