/**
 * What a spoken command asks for: a device type, and the status to set on it. Pure; tolerant of "the",
 * "please", plurals and word order ("turn the oven on", "oven on", "set the thermostat to 72").
 */
export interface Intent {
  deviceType: string
  status: string
  value: string
  /** How the controller says it back: "turn the oven on". */
  phrase: string
}

export type UtteranceResult = { ok: true; intent: Intent } | { ok: false; reason: string }

const EXAMPLES =
  '"lights on", "oven off", "oven temperature 350", "thermostat set 72", "door lock", "window open"'

const SYNONYMS: Record<string, string> = {
  light: 'light',
  lights: 'light',
  lamp: 'light',
  lamps: 'light',
  oven: 'oven',
  thermostat: 'thermostat',
  heating: 'thermostat',
  door: 'door',
  window: 'window',
  windows: 'window',
}

/** The statuses each device type understands, by spoken verb. */
const ACTIONS: Record<string, Record<string, { status: string; value: string }>> = {
  light: { on: { status: 'power', value: 'on' }, off: { status: 'power', value: 'off' } },
  oven: { on: { status: 'power', value: 'on' }, off: { status: 'power', value: 'off' } },
  thermostat: { on: { status: 'power', value: 'on' }, off: { status: 'power', value: 'off' } },
  door: {
    open: { status: 'state', value: 'open' },
    close: { status: 'state', value: 'closed' },
    shut: { status: 'state', value: 'closed' },
    lock: { status: 'state', value: 'locked' },
    unlock: { status: 'state', value: 'closed' },
  },
  window: {
    open: { status: 'state', value: 'open' },
    close: { status: 'state', value: 'closed' },
    shut: { status: 'state', value: 'closed' },
  },
}

/** Types with a temperature that "set" and "temperature" change. */
const TEMPERATURE_TYPES = new Set(['oven', 'thermostat'])
const FILLER = new Set(['the', 'please', 'turn', 'switch', 'to', 'a', 'my', 'set', 'temperature', 'degrees'])

const article = (noun: string) => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`

export function parseUtterance(utterance: string): UtteranceResult {
  const words = utterance
    .toLowerCase()
    .replace(/[,!?]|\.(?!\d)/g, ' ') // a full stop ends a sentence, but not the point in 72.5
    .split(/\s+/)
    .filter(Boolean)
  // Own properties only: "constructor" or "__proto__" name no device and no action.
  const typeWord = words.find((w) => Object.hasOwn(SYNONYMS, w))
  if (!typeWord) return { ok: false, reason: `no device named in "${utterance}": try ${EXAMPLES}` }
  const deviceType = SYNONYMS[typeWord] as string
  const actions = ACTIONS[deviceType] ?? {}
  const verb = words.find((w) => Object.hasOwn(actions, w) && !FILLER.has(w))
  const number = words.find((w) => /^-?\d+(\.\d+)?$/.test(w))
  const wantsTemperature =
    number !== undefined || words.includes('temperature') || (words.includes('set') && !verb)
  if (wantsTemperature) {
    if (!TEMPERATURE_TYPES.has(deviceType))
      return { ok: false, reason: `${article(deviceType)} has no temperature to set` }
    if (number === undefined) {
      return {
        ok: false,
        reason: `"${utterance}" names no temperature: say, for example, "${deviceType} set 72"`,
      }
    }
    return {
      ok: true,
      intent: {
        deviceType,
        status: 'temperature',
        value: number,
        phrase: `set the ${deviceType} to ${number}`,
      },
    }
  }
  if (!verb) {
    return {
      ok: false,
      reason: `"${utterance}" says nothing ${article(deviceType)} can do: it understands ${Object.keys(actions).join(', ')}`,
    }
  }
  const action = actions[verb] as { status: string; value: string }
  const phrase = action.status === 'power' ? `turn the ${deviceType} ${verb}` : `${verb} the ${deviceType}`
  return { ok: true, intent: { deviceType, status: action.status, value: action.value, phrase } }
}
