import { describe, expect, it } from 'vitest'
import { defaultConfig } from '../config.js'
import { feedDefaults, localTimeParameters, readingTypeFields } from './feed-defaults.js'

const fields = (xml: string) =>
  Object.fromEntries([...xml.matchAll(/<(\w+)>([^<]*)<\/\1>/g)].map((m) => [m[1], m[2]]))

describe('the operator’s defaults for a usage point with no context (issue 19, item 9)', () => {
  it('writes a time zone’s rules as the Green Button samples do', () => {
    // The samples' own values for US Eastern: second Sunday of March, first of November, at 2 AM.
    expect(fields(localTimeParameters('America/New_York', 2026))).toEqual({
      dstEndRule: 'B40E2000',
      dstOffset: '3600',
      dstStartRule: '360E2000',
      tzOffset: '-18000',
    })
    // Last Sunday of March at 2 AM, last Sunday of October at 3 AM (summer time).
    expect(fields(localTimeParameters('Europe/Amsterdam', 2026))).toEqual({
      dstEndRule: 'AE0E3000',
      dstOffset: '3600',
      dstStartRule: '3E0E2000',
      tzOffset: '3600',
    })
    expect(fields(localTimeParameters('UTC', 2026))).toEqual({
      dstEndRule: 'FFFFFFFF',
      dstOffset: '0',
      dstStartRule: 'FFFFFFFF',
      tzOffset: '0',
    })
  })

  it('writes the reading type in the schema’s order, with the readings’ interval length', () => {
    const defaults = feedDefaults(defaultConfig())
    expect(defaults.readingType(60)).toMatch(
      /<ReadingType xmlns="http:\/\/naesb.org\/espi"><accumulationBehaviour>4<\/accumulationBehaviour><commodity>1<\/commodity><dataQualifier>12<\/dataQualifier><flowDirection>1<\/flowDirection><intervalLength>60<\/intervalLength><kind>12<\/kind>.*<uom>72<\/uom><\/ReadingType>/,
    )
  })

  it('refuses a setting that is not one, naming it', () => {
    expect(() => feedDefaults({ ...defaultConfig(), greenButtonTimeZone: 'Mars/Olympus' })).toThrow(
      'greenButtonTimeZone: "Mars/Olympus" is not a time zone',
    )
    expect(() => readingTypeFields('uom=72,colour=3')).toThrow(
      /greenButtonReadingType: "colour" is not a ReadingType field/,
    )
    expect(() => readingTypeFields('uom=Wh')).toThrow(
      'greenButtonReadingType: uom must be a whole number, found "Wh"',
    )
  })
})
