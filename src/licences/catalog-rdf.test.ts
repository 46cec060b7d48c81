import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { corpusPath } from '../../test/support/corpus.js'
import { parseCatalogTurtle, RdfError } from './catalog-rdf.js'
import { IB1 } from './vocabulary.js'

const fixture = (name: string) =>
  readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8')
const SEED = readFileSync(corpusPath('seeds/ib1-trust-framework-access-control.txt'), 'utf8')
/** The specification's own licence example, exactly as written there. */
const seedExample = () => {
  const start = SEED.indexOf('@prefix dcterms:')
  return SEED.slice(start, SEED.indexOf('\n.\n', start) + 3)
}
const refusal = (text: string) => {
  try {
    parseCatalogTurtle(text)
  } catch (error) {
    expect(error).toBeInstanceOf(RdfError)
    return error as RdfError
  }
  throw new Error('the document was accepted')
}
const LICENCE = 'https://registry.estf.ib1.org/scheme/electricity/licence/voltage-reporting/1.4'

describe('reading IB1 catalogs and licence interpretations from Turtle', () => {
  it('reads the voltage-reporting example: one data service, two roles, one licence interpretation', () => {
    const doc = parseCatalogTurtle(fixture('ib1-voltage.ttl'))
    expect(doc.services).toEqual([
      {
        url: 'https://data.example.com/supply-voltage/v0',
        title: 'Supply voltage',
        roles: [
          'https://directory.estf.ib1.org/scheme/electricity/role/report-provider',
          'https://directory.estf.ib1.org/scheme/electricity/role/archiver',
        ],
        licence: LICENCE,
      },
    ])
    expect(doc.licences).toEqual([
      {
        url: LICENCE,
        legalText: `${LICENCE}/legal-text`,
        grants: [
          'GrantUseAny',
          'GrantAdaptAny',
          'GrantCombineAny',
          'GrantRedistributeCombined',
          'GrantCombineExternal',
        ].map((g) => IB1 + g),
        obligations: [`${IB1}ObligationAttribution`],
      },
    ])
    expect(doc.notes).toEqual([])
  })

  it('points at the first real fault of the specification’s own example: the @prefix without its dot', () => {
    const error = refusal(seedExample())
    // Line 2 is `@prefix ib1: <http://registry.ib1.org/ns/1.0#>`, 46 characters: the dot belongs at 47.
    expect(error.position).toEqual({ line: 2, column: 47 })
    expect(error.message).toBe('2:47: Expected declaration to end with a dot: a dot (.) is missing here')
  })

  it('then finds the next fault once that one is fixed: the legal text written without angle brackets', () => {
    const fixed = seedExample().replace('ns/1.0#>\n', 'ns/1.0#> .\n')
    expect(refusal(fixed).message).toBe(
      `5:17: Unexpected "https://https://registry.estf.ib1.org/scheme/electricity/licence/voltage-reporting/1.4/legal-text": a URL is written in angle brackets, <…>`,
    )
  })

  it('replaces old grant and obligation names, in any spelling of the namespace, and reports it', () => {
    const doc = parseCatalogTurtle(`@prefix ib1: <https://registry.core.trust.ib1.org/ns/1.0#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://l.example/1> a ib1:LicenceInterpretation ; dcterms:license <https://l.example/1/text> ;
  ib1:grant ib1:use_any, <https://registry.trust.ib1.org/ns/1.0#combine_external>, <https://provider.example/ns#GrantResell> ;
  ib1:obligation ib1:by .`)
    expect(doc.licences[0]).toEqual({
      url: 'https://l.example/1',
      legalText: 'https://l.example/1/text',
      grants: [`${IB1}GrantUseAny`, `${IB1}GrantCombineExternal`, 'https://provider.example/ns#GrantResell'],
      obligations: [`${IB1}ObligationAttribution`],
    })
    expect(doc.notes).toEqual([
      '<https://l.example/1>: grant https://registry.core.trust.ib1.org/ns/1.0#use_any is an old name, replaced by http://registry.ib1.org/ns/1.0#GrantUseAny',
      '<https://l.example/1>: grant https://registry.trust.ib1.org/ns/1.0#combine_external is an old name, replaced by http://registry.ib1.org/ns/1.0#GrantCombineExternal',
      '<https://l.example/1>: obligation https://registry.core.trust.ib1.org/ns/1.0#by is an old name, replaced by http://registry.ib1.org/ns/1.0#ObligationAttribution',
    ])
  })

  it('refuses a made-up term in the ib1: namespace, and a grant used as an obligation, where it is written', () => {
    const head =
      '@prefix ib1: <http://registry.ib1.org/ns/1.0#> .\n@prefix dcterms: <http://purl.org/dc/terms/> .\n'
    const licence =
      '<https://l.example/1> a ib1:LicenceInterpretation ; dcterms:license <https://l.example/t> ;\n'
    expect(refusal(`${head}${licence}  ib1:grant ib1:GrantEverything .`).message).toBe(
      "4:13: ib1:GrantEverything is not a standard grant; a custom grant belongs in its author's own namespace, not ib1:",
    )
    expect(refusal(`${head}${licence}  ib1:obligation ib1:GrantUseAny .`).message).toBe(
      '4:18: ib1:GrantUseAny is a grant, not an obligation',
    )
  })

  it('names a missing required term', () => {
    const head =
      '@prefix ib1: <http://registry.ib1.org/ns/1.0#> .\n@prefix dcat: <http://www.w3.org/ns/dcat#> .\n'
    expect(
      refusal(`${head}<https://l.example/1> a ib1:LicenceInterpretation ; ib1:grant ib1:GrantUseAny .`)
        .message,
    ).toBe('3:1: <https://l.example/1> has no dcterms:license (the URL of the legal text), which is required')
    expect(
      refusal(
        `${head}<https://d.example/s> a dcat:DataService ; ib1:roleRequiredToAccess <https://r.example/a> .`,
      ).message,
    ).toBe('3:1: <https://d.example/s> has no dcterms:license, which is required')
    expect(refusal(`${head}<https://d.example/s> a dcat:DataService .`).reason).toBe(
      '<https://d.example/s> has no ib1:roleRequiredToAccess, which is required',
    )
  })

  it('refuses a document about nothing it knows, and a statement left without its dot at the end', () => {
    expect(refusal('<https://a.example/x> <https://a.example/p> "v" .').reason).toBe(
      'the document holds no dcat:DataService and no ib1:LicenceInterpretation',
    )
    expect(refusal('<https://a.example/x> <https://a.example/p> "v"').message).toMatch(
      /^1:48: Expected punctuation to follow .*: a dot \(\.\) is missing here$/,
    )
  })
})
