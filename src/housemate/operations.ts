import { Type } from '@sinclair/typebox'
import { controllerOf } from '../entitlements/session-operations.js'
import { listing, operation, perCustodian } from '../kernel/operations.js'
import { AnyObject, Changed, Items, Text } from '../kernel/schemas.js'
import { Controller } from './controller.js'
import { HouseMate } from './house-mate.js'
import { occupantsView } from './views.js'

/** The House Mate model service and its controller: one per Custodian, so automation sees every change. */
export const houseMateOf = perCustodian((custodian) => {
  const house = new HouseMate(custodian)
  return { house, controller: new Controller(custodian, house) }
})

const Name = Type.String({ minLength: 1, maxLength: 100 })
const Address = Type.String({ minLength: 5, maxLength: 310, description: '<house>:<room>:<device>' })
const Target = Type.Optional(Type.String({ minLength: 1, maxLength: 310 }))
const DeviceKind = Type.Union([Type.Literal('sensor'), Type.Literal('appliance')])
const tags = ['house mate']

/** Configuring houses is administrative: the model service checks it in the write (or bootstrap mode). */
const change = { tags, permission: 'admin' as const, checkedByService: true as const, output: Changed }

/** The House Mate operations; the script keeps its keyword grammar (script/housemate-commands.ts) and runs these. */
export const housemateOperations = {
  defineHouse: operation({
    ...change,
    name: 'define_house',
    summary: 'Define a house (administrators)',
    input: Type.Object({ id: Name, address: Type.Optional(Text) }, { additionalProperties: false }),
    http: { method: 'POST', path: '/v1/houses', status: 201 },
    run: ({ custodian, token }, input) => houseMateOf(custodian).house.defineHouse(token, input),
  }),
  defineRoom: operation({
    ...change,
    name: 'define_room',
    summary: 'Define a room of a house (administrators)',
    input: Type.Object(
      {
        house: Name,
        name: Name,
        floor: Type.Integer({ minimum: -10, maximum: 200 }),
        type: Name,
        windows: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
      },
      { additionalProperties: false },
    ),
    http: { method: 'POST', path: '/v1/houses/:house/rooms', status: 201 },
    run: ({ custodian, token }, { name, ...rest }) =>
      houseMateOf(custodian).house.defineRoom(token, { room: name, ...rest }),
  }),
  defineDevice: operation({
    ...change,
    name: 'define_device',
    summary: 'Define a sensor or an appliance in a room (administrators)',
    input: Type.Object(
      {
        house: Name,
        room: Name,
        name: Name,
        kind: DeviceKind,
        type: Name,
        energy_use_watts: Type.Optional(Type.Number({ minimum: 0 })),
      },
      { additionalProperties: false },
    ),
    http: { method: 'POST', path: '/v1/houses/:house/rooms/:room/devices', status: 201 },
    run: ({ custodian, token }, input) =>
      houseMateOf(custodian).house.defineDevice(token, {
        kind: input.kind,
        name: input.name,
        type: input.type,
        room: `${input.house}:${input.room}`,
        energyUseWatts: input.energy_use_watts ?? null,
      }),
  }),
  defineOccupant: operation({
    ...change,
    name: 'define_occupant',
    summary: 'Define an occupant; creates its user with the voice print --<name>-- (administrators)',
    input: Type.Object(
      {
        name: Name,
        type: Type.Union([Type.Literal('adult'), Type.Literal('child'), Type.Literal('pet')]),
        known: Type.Optional(Type.Boolean({ description: 'false: noticed but not named; gets no user' })),
      },
      { additionalProperties: false },
    ),
    http: { method: 'POST', path: '/v1/occupants', status: 201 },
    run: ({ custodian, token }, input) => houseMateOf(custodian).house.defineOccupant(token, input),
  }),
  addOccupantToHouse: operation({
    ...change,
    name: 'add_occupant_to_house',
    summary: 'Make an occupant a resident of a house: grants <house>_<type>_resident (administrators)',
    input: Type.Object({ house: Name, name: Name }, { additionalProperties: false }),
    http: { method: 'PUT', path: '/v1/houses/:house/occupants/:name' },
    run: ({ custodian, token }, { house, name }) =>
      houseMateOf(custodian).house.addOccupantToHouse(token, name, house),
  }),
  listOccupants: listing({
    name: 'list_occupants',
    action: 'list occupants',
    summary: 'List the occupants, each with the houses it lives in (administrators)',
    tags,
    permission: 'admin',
    path: '/v1/occupants',
    items: ({ custodian }) => occupantsView(houseMateOf(custodian).house.model),
  }),
  showDevice: operation({
    name: 'show_device',
    summary: "A device's status values (needs view_<type> or control_<type> on it)",
    tags,
    permission: 'token',
    input: Type.Object(
      { address: Address, status: Type.Optional(Name), kind: Type.Optional(DeviceKind) },
      { additionalProperties: false },
    ),
    output: AnyObject,
    http: { method: 'GET', path: '/v1/devices/:address' },
    run: ({ custodian, token }, { address, status, kind }) =>
      houseMateOf(custodian).house.showDevice(token, kind, address, status),
  }),
  setStatus: operation({
    name: 'set_status',
    summary: 'Set a status value of a device (needs control_<type> on it)',
    tags,
    permission: 'token',
    input: Type.Object(
      {
        address: Address,
        status: Name,
        value: Type.String({ minLength: 1, maxLength: 200 }),
        kind: Type.Optional(DeviceKind),
      },
      { additionalProperties: false },
    ),
    output: Changed,
    http: { method: 'PUT', path: '/v1/devices/:address/status/:status' },
    run: ({ custodian, token }, { address, status, value, kind }) =>
      houseMateOf(custodian).house.setStatus(token, kind, address, status, value),
  }),
  showConfiguration: operation({
    name: 'show_configuration',
    summary:
      'The configuration of a house, room or device, or of every house you may see (view_configuration)',
    tags,
    permission: 'token',
    input: Type.Object({ target: Target }, { additionalProperties: false }),
    output: Items,
    http: { method: 'GET', path: '/v1/configuration' },
    run: ({ custodian, token }, { target }) => ({
      items: houseMateOf(custodian).house.showConfiguration(token, target).items,
    }),
  }),
  showEnergyUse: operation({
    name: 'show_energy_use',
    summary: 'Watts in use in a house, room or device, or in every house you may see (view_energy_use)',
    tags,
    permission: 'token',
    input: Type.Object({ target: Target }, { additionalProperties: false }),
    output: AnyObject,
    http: { method: 'GET', path: '/v1/energy-use' },
    run: ({ custodian, token }, { target }) => houseMateOf(custodian).house.showEnergyUse(token, target),
  }),
  // Sent by a House Mate controller, with its own bearer token; the speaker is identified by the voice
  // print it carries, and the speaker's own entitlements decide. Voice prints are counted before they are
  // checked, per controller and per address.
  voiceCommand: operation({
    name: 'voice_command',
    summary: 'A voice command heard by a listening device: the speaker is identified by voice print',
    description:
      'Only a House Mate controller may send it: the bearer token of a user holding housemate_controller.',
    tags,
    permission: 'token',
    input: Type.Object(
      {
        listener: Type.String({
          minLength: 5,
          maxLength: 310,
          description: '<house>:<room>:<device> that heard it',
        }),
        voice_print: Type.String({ minLength: 1, maxLength: 1024 }),
        utterance: Type.String({ minLength: 1, maxLength: 500 }),
      },
      { additionalProperties: false },
    ),
    output: AnyObject,
    http: { method: 'POST', path: '/v1/voice-commands' },
    run: (context, { listener, voice_print, utterance }) =>
      houseMateOf(context.custodian).controller.voiceCommand(listener, voice_print, utterance, {
        address: context.address,
        controller: controllerOf(context, 'send a voice command'),
      }),
  }),
}
