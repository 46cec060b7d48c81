import type { ChangeResult } from '../custodian.js'
import { CustodianError } from '../errors.js'
import type { HouseMate } from '../housemate/house-mate.js'
import { houseMateOf, housemateOperations } from '../housemate/operations.js'
import type { DeviceKind } from '../store/schema.js'
import type { CommandOutcome, CommandSpec } from './command-kit.js'
import { runOperation } from './operation-commands.js'
import type { Field } from './parse-line.js'

type DeviceStatus = ReturnType<HouseMate['showDevice']>
type EnergyUse = ReturnType<HouseMate['showEnergyUse']>

const syntax = (message: string) => new CustodianError('Syntax', message)

const ops = housemateOperations

/** Runs a House Mate change for the session; the result is the change as the model service answers it. */
async function change(...call: Parameters<typeof runOperation>): Promise<CommandOutcome> {
  const result = (await runOperation(...call)) as ChangeResult
  return { message: result.summary, result }
}

/**
 * `<subject> <name> key value key value...`: checks that exactly the keys the usage names are there, each
 * with a value, and returns them.
 */
function keywords(
  usage: string,
  words: string[],
  required: string[],
  optional: string[] = [],
): Record<string, string> {
  const found: Record<string, string> = {}
  for (let i = 0; i < words.length; i += 2) {
    const key = words[i] as string
    const value = words[i + 1]
    if (![...required, ...optional].includes(key)) throw syntax(`unexpected "${key}": ${usage}`)
    if (value === undefined) throw syntax(`"${key}" needs a value: ${usage}`)
    if (key in found) throw syntax(`"${key}" is given twice: ${usage}`)
    found[key] = value
  }
  const missing = required.filter((k) => !(k in found))
  if (missing.length > 0) throw syntax(`missing ${missing.map((m) => `"${m}"`).join(', ')}: ${usage}`)
  return found
}

function integer(key: string, text: string, usage: string): number {
  if (!/^\d+$/.test(text)) throw syntax(`${key} must be a whole number, got "${text}": ${usage}`)
  return Number(text)
}

const words = (args: Field[]) => args.flatMap((f) => f.words)

const DEFINE_USAGE = {
  house: 'define house <house> [address "<address>"]',
  room: 'define room <room> floor <n> type <type> house <house> [windows <n>]',
  occupant: 'define occupant <name> type adult|child|pet [known yes|no]',
  sensor: 'define sensor <name> type <type> room <house>:<room>',
  appliance: 'define appliance <name> type <type> room <house>:<room> [energy-use <watts>]',
}

const define: CommandSpec = {
  usage: Object.values(DEFINE_USAGE).join('  |  '),
  help: 'House Mate: defines a house, room, occupant, sensor or appliance (administrative)',
  async run(state, args) {
    const [subject, name, ...rest] = words(args)
    if (!subject || !(subject in DEFINE_USAGE)) throw syntax(`define what? ${define.usage}`)
    const usage = DEFINE_USAGE[subject as keyof typeof DEFINE_USAGE]
    if (!name) throw syntax(`missing the name: ${usage}`)
    switch (subject) {
      case 'house': {
        const o = keywords(usage, rest, [], ['address'])
        return change(ops.defineHouse, state, { id: name, address: o.address ?? '' })
      }
      case 'room': {
        const o = keywords(usage, rest, ['floor', 'type', 'house'], ['windows'])
        return change(ops.defineRoom, state, {
          house: o.house,
          name,
          floor: integer('floor', o.floor as string, usage),
          type: o.type,
          windows: o.windows === undefined ? 0 : integer('windows', o.windows, usage),
        })
      }
      case 'occupant': {
        const o = keywords(usage, rest, ['type'], ['known'])
        if (o.known !== undefined && o.known !== 'yes' && o.known !== 'no')
          throw syntax(`known must be yes or no, got "${o.known}": ${usage}`)
        return change(ops.defineOccupant, state, { name, type: o.type, known: o.known !== 'no' })
      }
      default: {
        const kind = subject as DeviceKind
        const o = keywords(usage, rest, ['type', 'room'], kind === 'appliance' ? ['energy-use'] : [])
        const watts = o['energy-use']
        if (watts !== undefined && !/^\d+(\.\d+)?$/.test(watts))
          throw syntax(`energy-use must be a number of watts, got "${watts}": ${usage}`)
        // `room <house>:<room>`: the operation takes the two apart and the model service checks the address.
        const room = o.room as string
        const colon = room.indexOf(':')
        return change(ops.defineDevice, state, {
          house: colon < 0 ? room : room.slice(0, colon),
          room: colon < 0 ? '' : room.slice(colon + 1),
          name,
          kind,
          type: o.type,
          energy_use_watts: watts === undefined ? undefined : Number(watts),
        })
      }
    }
  },
}

const add: CommandSpec = {
  usage: 'add occupant <name> to_house <house>',
  help: 'House Mate: makes an occupant a resident of a house (creating <house>_<type>_resident if needed)',
  async run(state, args) {
    const [subject, name, ...rest] = words(args)
    if (subject !== 'occupant' || !name) throw syntax(`add what? ${add.usage}`)
    const o = keywords(add.usage, rest, ['to_house'])
    return change(ops.addOccupantToHouse, state, { name, house: o.to_house })
  },
}

const kindOf = (subject: string | undefined, usage: string): DeviceKind => {
  if (subject !== 'sensor' && subject !== 'appliance')
    throw syntax(`expected sensor or appliance, got "${subject ?? ''}": ${usage}`)
  return subject
}

const set: CommandSpec = {
  usage: 'set sensor|appliance <house>:<room>:<device> status <status> value <value>',
  help: 'House Mate: sets a status value (needs control_<type> on the device)',
  async run(state, args) {
    const [subject, address, ...rest] = words(args)
    const kind = kindOf(subject, set.usage)
    if (!address) throw syntax(`missing the device address: ${set.usage}`)
    const o = keywords(set.usage, rest, ['status', 'value'])
    return change(ops.setStatus, state, { kind, address, status: o.status, value: o.value }, state.adminToken)
  },
}

const show: CommandSpec = {
  usage:
    'show sensor|appliance <house>:<room>:<device> [status <status>]  |  show configuration [<house>[:<room>[:<device>]]]  |  show energy-use [<house>[:<room>[:<device>]]]',
  help: 'House Mate: reads status values, the configuration, or the energy in use',
  async run(state, args) {
    const [subject, target, ...rest] = words(args)
    const token = state.adminToken
    if (subject === 'configuration' || subject === 'energy-use') {
      if (rest.length > 0) throw syntax(`unexpected "${rest.join(' ')}": ${show.usage}`)
      if (subject === 'configuration') {
        const result = houseMateOf(state.custodian).house.showConfiguration(token, target)
        return { message: result.text, result: { items: result.items } }
      }
      const result = (await runOperation(ops.showEnergyUse, state, { target }, token)) as EnergyUse
      const parts = result.items.map((i) => `${i.target} ${i.watts} W`).join(', ')
      return { message: `${result.watts} W in use${parts ? ` (${parts})` : ''}`, result }
    }
    const kind = kindOf(subject, show.usage)
    if (!target) throw syntax(`missing the device address: ${show.usage}`)
    const o = keywords(show.usage, rest, [], ['status'])
    const input = { kind, address: target, status: o.status }
    const result = (await runOperation(ops.showDevice, state, input, token)) as DeviceStatus
    const values = Object.entries(result.status)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
    return { message: `${result.device}: ${values || 'no status yet'}`, result }
  },
}

const voiceCommand: CommandSpec = {
  usage: 'voice_command <house>:<room>:<device>, <voice_print>, "<utterance>"',
  help: 'House Mate controller: the speaker logs in by voice print and the command runs with their entitlements',
  async run(state, args) {
    if (args.length !== 3 || args.some((a) => a.text === ''))
      throw syntax(`voice_command takes 3 arguments: ${voiceCommand.usage}`)
    const [listener, voicePrint, utterance] = args.map((a) => a.text) as [string, string, string]
    const outcome = await houseMateOf(state.custodian).controller.voiceCommand(
      listener,
      voicePrint,
      utterance,
      {
        address: state.address,
      },
    )
    return { message: outcome.message, result: outcome }
  },
}

/** The House Mate commands of the script language. */
export const housemateCommands: Record<string, CommandSpec> = {
  define,
  add,
  set,
  show,
  voice_command: voiceCommand,
}
