import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { isCustodianError } from '../../src/errors.js'
import { parseCatalogTurtle } from '../../src/licences/catalog-rdf.js'
import { CatalogService } from '../../src/licences/catalog-service.js'
import { IB1 } from '../../src/licences/vocabulary.js'
import { custodianOn, storeBackends, tempSqlite } from '../support/temp-store.js'

const VOLTAGE = readFileSync(new URL('../fixtures/ib1-voltage.ttl', import.meta.url), 'utf8')
const SERVICE = 'https://data.example.com/supply-voltage/v0'
const LICENCE = 'https://registry.estf.ib1.org/scheme/electricity/licence/voltage-reporting/1.4'
const ROLE = (name: string) => `https://directory.estf.ib1.org/scheme/electricity/role/${name}`
const ATTRIBUTION = `${IB1}ObligationAttribution`

describe.each(storeBackends)('the trust-framework catalog on $name', ({ make }) => {
  let close: () => Promise<void>
  let custodian: Custodian
  let catalog: CatalogService

  beforeAll(async () => {
    ;({ custodian, close } = await custodianOn(make))
    catalog = new CatalogService(custodian)
    await catalog.load(undefined, VOLTAGE, 'ib1-voltage.ttl')
    const participants: [string, string[], string[]][] = [
      ['grid-reports', [ROLE('report-provider')], [ATTRIBUTION]],
      ['national-archive', [ROLE('archiver')], [ATTRIBUTION]],
      ['energy-app', [ROLE('energy-service-provider')], [ATTRIBUTION]],
      ['careless-reports', [ROLE('report-provider')], []],
    ]
    for (const [id, roles, understands] of participants)
      await catalog.putParticipant(undefined, { id, roles, understands })
  })
  afterAll(async () => {
    await close()
  })

  it('lets a report provider and an archiver access the voltage data under the voltage-reporting licence', () => {
    for (const participant of ['grid-reports', 'national-archive']) {
      const decision = catalog.check(undefined, participant, SERVICE)
      expect(decision).toMatchObject({
        allowed: true,
        licence: LICENCE,
        legalText: `${LICENCE}/legal-text`,
        // The exact list is pinned by the reader's unit test; here it must come through the store unchanged.
        grants: parseCatalogTurtle(VOLTAGE).licences[0]?.grants,
        obligations: [ATTRIBUTION],
      })
    }
  })

  it('refuses a participant with neither role, saying which roles would do', () => {
    const decision = catalog.check(undefined, 'energy-app', SERVICE)
    expect(decision.allowed).toBe(false)
    expect(decision.reason).toBe(
      `energy-app holds none of the roles ${SERVICE} requires: any one of ${ROLE('report-provider')}, ${ROLE('archiver')} would do (energy-app holds ${ROLE('energy-service-provider')})`,
    )
  })

  it('refuses the licence to a consumer that does not understand ObligationAttribution', () => {
    const decision = catalog.check(undefined, 'careless-reports', SERVICE)
    expect(decision).toMatchObject({ allowed: false, grants: [], obligations: [] })
    expect(decision.reason).toMatch(
      /careless-reports does not understand the obligation ib1:ObligationAttribution of licence/,
    )
  })

  it('rewrites old grant names on the way in, and reports it', async () => {
    const result = await catalog.load(
      undefined,
      `@prefix ib1: <https://registry.trust.ib1.org/ns/1.0#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://registry.example/licence/old-style> a ib1:LicenceInterpretation ;
  dcterms:license <https://registry.example/licence/old-style/text> ;
  ib1:grant ib1:use_any, ib1:redistribute_derived ; ib1:obligation ib1:sa .`,
      'old-style.ttl',
    )
    expect(result.summary).toBe(
      'loaded 0 data service(s) and 1 licence interpretation(s) from old-style.ttl; 3 old name(s) replaced',
    )
    const stored = custodian.catalog.licences.get('https://registry.example/licence/old-style')
    expect(JSON.parse(stored?.grants ?? '[]')).toEqual([
      `${IB1}GrantUseAny`,
      `${IB1}GrantRedistributeDerived`,
    ])
    expect(JSON.parse(stored?.obligations ?? '[]')).toEqual([`${IB1}ObligationSameLicence`])
  })

  it('exports the catalog as Turtle that loads back to the same thing', async () => {
    const exported = catalog.export(undefined)
    expect(exported).toContain('@prefix ib1: <http://registry.ib1.org/ns/1.0#>.')
    const doc = parseCatalogTurtle(exported)
    expect(doc.services.map((s) => s.url)).toEqual([SERVICE])
    expect(doc.licences.map((l) => l.url).sort()).toEqual(
      [LICENCE, 'https://registry.example/licence/old-style'].sort(),
    )
    await catalog.load(undefined, exported, 'export.ttl')
    expect(catalog.export(undefined)).toBe(exported)
  })

  it('refuses a bad document with its position and stores none of it', async () => {
    const before = catalog.export(undefined)
    const bad = VOLTAGE.replace(
      '<https://data.example.com/supply-voltage/v0>',
      '<https://data.example.com/supply-voltage/v1>',
    ).replace('ib1:obligation ib1:ObligationAttribution .', 'ib1:obligation ib1:ObligationAttribution')
    await expect(catalog.load(undefined, bad, 'bad.ttl')).rejects.toThrow(
      /^bad\.ttl:\d+:\d+: Expected .*: a dot \(\.\) is missing here$/,
    )
    expect(catalog.export(undefined)).toBe(before)
  })
})

describe('loading fuzzed Turtle', () => {
  const temp = tempSqlite()
  let custodian: Custodian
  let catalog: CatalogService
  beforeAll(async () => {
    custodian = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    catalog = new CatalogService(custodian)
    await catalog.load(undefined, VOLTAGE, 'ib1-voltage.ttl')
  })
  afterAll(async () => {
    await custodian.close()
    temp.remove()
  })

  /** The fixture with some characters replaced, deleted or inserted: near misses of a valid document. */
  const mutated = fc
    .array(fc.tuple(fc.nat({ max: VOLTAGE.length }), fc.nat({ max: 3 }), fc.string({ maxLength: 4 })), {
      minLength: 1,
      maxLength: 6,
    })
    .map((edits) =>
      edits.reduce((text, [at, cut, insert]) => text.slice(0, at) + insert + text.slice(at + cut), VOLTAGE),
    )
  const tokens = fc
    .array(
      fc.constantFrom(
        '@prefix',
        'ib1:',
        '<https://x.example/a>',
        ';',
        '.',
        ',',
        '"',
        'a',
        'dcat:DataService',
        '[',
        ']',
        '\n',
        ' ',
        '_:b',
        '^^',
        '@en',
        '#',
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join(' '))

  it('never crashes and never stores part of a refused document', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, tokens, fc.string({ maxLength: 200 })), async (text) => {
        const before = catalog.export(undefined)
        try {
          await catalog.load(undefined, text, 'fuzz.ttl')
        } catch (error) {
          // A refusal is a validation error naming the position; anything else is a bug.
          expect(isCustodianError(error)).toBe(true)
          expect((error as Error).message).toMatch(/^fuzz\.ttl:\d+:\d+: \S/)
          expect(catalog.export(undefined)).toBe(before)
          return
        }
        // Accepted (a harmless mutation): what it held is now in the catalog, whole.
        const doc = parseCatalogTurtle(text)
        for (const s of doc.services) expect(custodian.catalog.services.get(s.url)?.licence).toBe(s.licence)
        for (const l of doc.licences)
          expect(custodian.catalog.licences.get(l.url)?.legal_text).toBe(l.legalText)
      }),
      { numRuns: 300 },
    )
  })
})
