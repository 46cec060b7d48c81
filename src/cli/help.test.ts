import { describe, expect, it } from 'vitest'
import { settings } from '../config.js'
import { describeSettings } from './help.js'

describe('describeSettings', () => {
  it('lists every setting with its flag, variable and default', () => {
    const text = describeSettings()
    for (const [name, s] of Object.entries(settings)) {
      expect(text).toContain(`--${s.flag}`)
      expect(text).toContain(s.env)
      expect(text).toContain(`${name}: ${s.help}`)
    }
    expect(text).toMatch(/--port\s+PORT\s+default 8080/)
  })
})
