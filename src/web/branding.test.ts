import { describe, expect, it } from 'vitest'
import { brandedHeaders, brandingOf } from './branding.js'

const settings = { utilityName: 'Northwind Power', utilityLogo: '', utilityColour: '#0B5394' }

describe("the utility's name and look", () => {
  it('writes on the colour in black or white, whichever contrasts more', () => {
    expect(brandingOf(settings)).toEqual({
      name: 'Northwind Power',
      logoUrl: '',
      colour: '#0b5394',
      onColour: '#ffffff',
    })
    expect(brandingOf({ ...settings, utilityColour: '#ffd23f' }).onColour).toBe('#000000')
  })

  it('refuses a colour or a logo it cannot use, naming the setting', () => {
    expect(() => brandingOf({ ...settings, utilityColour: 'green' })).toThrow(
      'utilityColour must be #rrggbb, got "green"',
    )
    expect(() => brandingOf({ ...settings, utilityLogo: 'javascript:alert(1)' })).toThrow(
      /^utilityLogo must be an https:, http: or data:image\/ URL/,
    )
  })

  it('lets the page load images from the logo’s origin only', () => {
    const csp = (logo: string) =>
      brandedHeaders(brandingOf({ ...settings, utilityLogo: logo }))['content-security-policy']
    expect(csp('')).not.toContain('img-src')
    expect(csp('https://cdn.example/logo.svg')).toMatch(/; img-src https:\/\/cdn\.example$/)
    expect(csp('data:image/png;base64,AAAA')).toMatch(/; img-src data:$/)
  })
})
