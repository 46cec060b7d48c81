import { describe, expect, it } from 'vitest'
import { type Intent, parseUtterance } from './utterance.js'

/** The intent `utterance` is understood as; fails the test when it is refused. */
function intentOf(utterance: string): Intent {
  const result = parseUtterance(utterance)
  if (!result.ok) throw new Error(`expected "${utterance}" to be understood, but: ${result.reason}`)
  return result.intent
}

/** Why `utterance` is refused; fails the test when it is understood. */
function reasonOf(utterance: string): string {
  const result = parseUtterance(utterance)
  if (result.ok)
    throw new Error(`expected "${utterance}" to be refused, but got ${JSON.stringify(result.intent)}`)
  return result.reason
}

describe('parseUtterance: power', () => {
  it.each<[string, Intent]>([
    ['oven on', { deviceType: 'oven', status: 'power', value: 'on', phrase: 'turn the oven on' }],
    ['turn the oven off', { deviceType: 'oven', status: 'power', value: 'off', phrase: 'turn the oven off' }],
    ['Lights on!', { deviceType: 'light', status: 'power', value: 'on', phrase: 'turn the light on' }],
    [
      'turn on the lights',
      { deviceType: 'light', status: 'power', value: 'on', phrase: 'turn the light on' },
    ],
    [
      'please switch the heating off',
      { deviceType: 'thermostat', status: 'power', value: 'off', phrase: 'turn the thermostat off' },
    ],
    ['LAMP OFF.', { deviceType: 'light', status: 'power', value: 'off', phrase: 'turn the light off' }],
  ])('understands %j', (utterance, intent) => {
    expect(parseUtterance(utterance)).toEqual({ ok: true, intent })
  })
})

describe('parseUtterance: temperature', () => {
  it.each<[string, Intent]>([
    [
      'oven temperature 350',
      { deviceType: 'oven', status: 'temperature', value: '350', phrase: 'set the oven to 350' },
    ],
    [
      'set the thermostat to 72',
      { deviceType: 'thermostat', status: 'temperature', value: '72', phrase: 'set the thermostat to 72' },
    ],
    [
      'thermostat set 72',
      { deviceType: 'thermostat', status: 'temperature', value: '72', phrase: 'set the thermostat to 72' },
    ],
    [
      'set the heating to 68 degrees please',
      { deviceType: 'thermostat', status: 'temperature', value: '68', phrase: 'set the thermostat to 68' },
    ],
  ])('understands %j', (utterance, intent) => {
    expect(parseUtterance(utterance)).toEqual({ ok: true, intent })
  })

  it.each<[string, string, Intent]>([
    // The number pattern accepts decimals, so "72.5" must not be cut at the point.
    [
      'keeps a decimal temperature whole',
      'set the thermostat to 72.5',
      {
        deviceType: 'thermostat',
        status: 'temperature',
        value: '72.5',
        phrase: 'set the thermostat to 72.5',
      },
    ],
    [
      'a set verb with an action word and no number is the action, not a temperature',
      'set the lights on',
      { deviceType: 'light', status: 'power', value: 'on', phrase: 'turn the light on' },
    ],
  ])('%s', (_, utterance, intent) => {
    expect(intentOf(utterance)).toEqual(intent)
  })
})

describe('parseUtterance: doors and windows', () => {
  it.each<[string, Intent]>([
    ['door lock', { deviceType: 'door', status: 'state', value: 'locked', phrase: 'lock the door' }],
    ['lock the door', { deviceType: 'door', status: 'state', value: 'locked', phrase: 'lock the door' }],
    ['unlock the door', { deviceType: 'door', status: 'state', value: 'closed', phrase: 'unlock the door' }],
    ['open the window', { deviceType: 'window', status: 'state', value: 'open', phrase: 'open the window' }],
    ['close window', { deviceType: 'window', status: 'state', value: 'closed', phrase: 'close the window' }],
    [
      'shut the windows',
      { deviceType: 'window', status: 'state', value: 'closed', phrase: 'shut the window' },
    ],
  ])('understands %j', (utterance, intent) => {
    expect(parseUtterance(utterance)).toEqual({ ok: true, intent })
  })
})

describe('parseUtterance: refusals', () => {
  it('refuses an utterance that names no device, with examples', () => {
    const reason = reasonOf('make coffee')
    expect(reason).toMatch(/^no device named in "make coffee": try /)
    expect(reason).toContain('"lights on"')
    expect(reason).toContain('"thermostat set 72"')
  })

  it('refuses an empty utterance', () => {
    expect(reasonOf('')).toMatch(/^no device named in "": try /)
  })

  it('refuses a temperature for a window', () => {
    expect(reasonOf('window temperature 20')).toBe('a window has no temperature to set')
    expect(reasonOf('set the window to 20')).toBe('a window has no temperature to set')
  })

  it('refuses a temperature for a door or a light', () => {
    expect(reasonOf('door 5')).toBe('a door has no temperature to set')
    expect(reasonOf('set the lights to 40')).toBe('a light has no temperature to set')
  })

  it('refuses a number-less temperature for a window without suggesting a temperature it cannot take', () => {
    // The suggestion "window set 72" would itself be refused: the reason must say a window has none.
    const reason = reasonOf('window temperature')
    expect(reason).toContain('a window has no temperature')
    expect(reason).not.toContain('window set 72')
  })

  it('refuses a verb the device does not have, listing the ones it has', () => {
    expect(reasonOf('window lock')).toBe(
      '"window lock" says nothing a window can do: it understands open, close, shut',
    )
    expect(reasonOf('oven open')).toMatch(
      /^"oven open" says nothing an? oven can do: it understands on, off$/,
    )
  })

  it('refuses "thermostat set" with no number, suggesting one', () => {
    expect(reasonOf('thermostat set')).toBe(
      '"thermostat set" names no temperature: say, for example, "thermostat set 72"',
    )
    expect(reasonOf('oven temperature')).toBe(
      '"oven temperature" names no temperature: say, for example, "oven set 72"',
    )
  })

  it('refuses words that are only names of Object.prototype members', () => {
    // `w in SYNONYMS` / `w in actions` must not find inherited members such as constructor and __proto__.
    expect(reasonOf('constructor on')).toMatch(/^no device named in "constructor on"/)
    expect(reasonOf('__proto__ off')).toMatch(/^no device named in "__proto__ off"/)
    expect(reasonOf('oven constructor')).toMatch(
      /^"oven constructor" says nothing an? oven can do: it understands on, off$/,
    )
    expect(reasonOf('door __proto__')).toBe(
      '"door __proto__" says nothing a door can do: it understands open, close, shut, lock, unlock',
    )
  })

  it('refuses a device named with no verb at all', () => {
    expect(reasonOf('the door')).toBe(
      '"the door" says nothing a door can do: it understands open, close, shut, lock, unlock',
    )
  })
})
