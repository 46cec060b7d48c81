import { describe, expect, it } from 'vitest'
import { prettyLogs } from './logger.js'

describe('prettyLogs (the logFormat setting)', () => {
  it('is pretty on a terminal and JSON otherwise, unless told', () => {
    expect(prettyLogs('auto', true)).toBe(true)
    expect(prettyLogs('auto', false)).toBe(false)
    expect(prettyLogs('pretty', false)).toBe(true)
    expect(prettyLogs('json', true)).toBe(false)
  })

  it('refuses another format, naming the setting and the choices', () => {
    expect(() => prettyLogs('xml')).toThrow('logFormat must be auto, pretty or json, got "xml"')
  })
})
