import type { Config } from '../config.js'
import { CustodianError } from '../errors.js'
import { pageHeaders } from './html.js'

/** The utility's name and look on every customer page. */
export interface Branding {
  name: string
  /** Empty: no logo. */
  logoUrl: string
  /** #rrggbb. */
  colour: string
  /** Black or white, whichever reads better on `colour` (at least 4.5:1, WCAG AA). */
  onColour: string
}

/** WCAG relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/** The settings checked: a bad colour or logo URL stops the server naming the setting, not a page later. */
export function brandingOf(config: Pick<Config, 'utilityName' | 'utilityLogo' | 'utilityColour'>): Branding {
  const colour = config.utilityColour.toLowerCase()
  if (!/^#[0-9a-f]{6}$/.test(colour))
    throw new CustodianError('Validation', `utilityColour must be #rrggbb, got "${config.utilityColour}"`)
  const logo = config.utilityLogo
  if (logo !== '' && !/^(https?:\/\/\S+|data:image\/[a-z+.-]+[;,]\S*)$/i.test(logo))
    throw new CustodianError(
      'Validation',
      `utilityLogo must be an https:, http: or data:image/ URL, got "${logo.slice(0, 60)}"`,
    )
  const l = luminance(colour)
  // Contrast with white is 1.05/(l+0.05), with black (l+0.05)/0.05: the larger wins.
  const onColour = 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#ffffff' : '#000000'
  return { name: config.utilityName, logoUrl: logo, colour, onColour }
}

/** The page headers, letting the logo (and only it) load as an image. */
export function brandedHeaders(branding: Branding): Record<string, string> {
  if (!branding.logoUrl) return pageHeaders
  const source = branding.logoUrl.startsWith('data:') ? 'data:' : new URL(branding.logoUrl).origin
  return {
    ...pageHeaders,
    'content-security-policy': `${pageHeaders['content-security-policy']}; img-src ${source}`,
  }
}
