import { describe, expect, it } from 'vitest'
import { AT, applyChanges, put } from '../../test/support/unit.js'
import type { DeviceRow, RoomRow } from '../store/schema.js'
import type { PlannedChange } from '../store/store.js'
import { HouseModel } from './house-model.js'
import { configurationOf, describeConfiguration, energyUseOf, occupantsView } from './views.js'

const room = (id: string, type: string, floor: number, windows: number): PlannedChange => {
  const [house = '', name = ''] = id.split(':')
  return put('hm_rooms', { id, house_id: house, name, floor, type, windows } satisfies RoomRow)
}

const device = (
  id: string,
  kind: DeviceRow['kind'],
  type: string,
  watts: number | null,
  status: Record<string, string> = {},
): PlannedChange[] => {
  const roomId = id.split(':').slice(0, 2).join(':')
  const name = id.split(':')[2] ?? ''
  return [
    put('hm_devices', { id, room_id: roomId, name, kind, type, energy_use_watts: watts }),
    ...Object.entries(status).map(([s, value]) =>
      put('hm_device_status', { device_id: id, status: s, value, updated_at: AT }),
    ),
  ]
}

/**
 * house1 with a kitchen (oven on, light off, a smoke sensor, a kettle of unknown draw that is on), a living
 * room (thermostat on, a lamp never switched) and a kitchen2 (an oven on); and house10, whose id starts with
 * house1's, with an oven on.
 */
function houses(): HouseModel {
  return applyChanges(new HouseModel(), [
    put('hm_houses', { id: 'house1', address: '1 Main Street' }),
    put('hm_houses', { id: 'house10', address: '' }),
    room('house1:kitchen', 'kitchen', 1, 2),
    room('house1:living_room', 'living_room', 1, 3),
    room('house1:kitchen2', 'kitchen', 2, 0),
    room('house10:kitchen', 'kitchen', 1, 1),
    ...device('house1:kitchen:oven', 'appliance', 'oven', 2400, { power: 'on', temperature: '350' }),
    ...device('house1:kitchen:ceiling_light', 'appliance', 'light', 60, { power: 'off' }),
    ...device('house1:kitchen:smoke', 'sensor', 'smoke_detector', null, { smoke: 'clear' }),
    ...device('house1:kitchen:kettle', 'appliance', 'kettle', null, { power: 'on' }),
    ...device('house1:living_room:thermostat', 'appliance', 'thermostat', 1500, { power: 'on' }),
    ...device('house1:living_room:lamp', 'appliance', 'light', 40),
    ...device('house1:kitchen2:oven', 'appliance', 'oven', 1000, { power: 'on' }),
    ...device('house10:kitchen:oven', 'appliance', 'oven', 2400, { power: 'on' }),
    put('hm_occupants', { id: 'sam', type: 'adult', known: 1 }),
    put('hm_occupants', { id: 'jimmy', type: 'child', known: 1 }),
    put('hm_occupants', { id: 'visitor', type: 'adult', known: 0 }),
    put('hm_house_occupants', { house_id: 'house1', occupant_id: 'sam' }),
    put('hm_house_occupants', { house_id: 'house1', occupant_id: 'visitor' }),
    put('hm_house_occupants', { house_id: 'house1', occupant_id: 'jimmy' }),
  ])
}

/** house1's oven reports its power off. */
const turnOvenOff = (model: HouseModel) =>
  applyChanges(model, [
    put('hm_device_status', {
      device_id: 'house1:kitchen:oven',
      status: 'power',
      value: 'off',
      updated_at: AT,
    }),
  ])

const ovenView = {
  id: 'house1:kitchen:oven',
  name: 'oven',
  kind: 'appliance',
  type: 'oven',
  energy_use_watts: 2400,
  status: { power: 'on', temperature: '350' },
}

describe('configurationOf', () => {
  it('shows a device with its status values', () => {
    expect(configurationOf(houses(), { kind: 'device', id: 'house1:kitchen:oven' })).toEqual(ovenView)
  })

  it('shows a device with no status values as an empty status', () => {
    expect(configurationOf(houses(), { kind: 'device', id: 'house1:living_room:lamp' })).toEqual({
      id: 'house1:living_room:lamp',
      name: 'lamp',
      kind: 'appliance',
      type: 'light',
      energy_use_watts: 40,
      status: {},
    })
  })

  it('shows a room with its devices', () => {
    const view = configurationOf(houses(), { kind: 'room', id: 'house1:kitchen' })
    expect(view).toMatchObject({
      id: 'house1:kitchen',
      name: 'kitchen',
      floor: 1,
      type: 'kitchen',
      windows: 2,
    })
    expect(view && 'devices' in view ? view.devices : []).toEqual([
      ovenView,
      {
        id: 'house1:kitchen:ceiling_light',
        name: 'ceiling_light',
        kind: 'appliance',
        type: 'light',
        energy_use_watts: 60,
        status: { power: 'off' },
      },
      {
        id: 'house1:kitchen:smoke',
        name: 'smoke',
        kind: 'sensor',
        type: 'smoke_detector',
        energy_use_watts: null,
        status: { smoke: 'clear' },
      },
      {
        id: 'house1:kitchen:kettle',
        name: 'kettle',
        kind: 'appliance',
        type: 'kettle',
        energy_use_watts: null,
        status: { power: 'on' },
      },
    ])
  })

  it('does not put a device of a room whose id shares a prefix in a room', () => {
    const view = configurationOf(houses(), { kind: 'room', id: 'house1:kitchen' })
    const ids = view && 'devices' in view ? view.devices.map((d) => d.id) : []
    expect(ids).not.toContain('house1:kitchen2:oven')
  })

  it('shows a house with its occupants, sorted, and its rooms', () => {
    const view = configurationOf(houses(), { kind: 'house', id: 'house1' })
    expect(view).toMatchObject({
      id: 'house1',
      address: '1 Main Street',
      occupants: [
        { name: 'jimmy', type: 'child', known: true },
        { name: 'sam', type: 'adult', known: true },
        { name: 'visitor', type: 'adult', known: false },
      ],
    })
    const rooms = view && 'rooms' in view ? view.rooms : []
    expect(rooms.map((r) => r?.id)).toEqual(['house1:kitchen', 'house1:living_room', 'house1:kitchen2'])
    expect(rooms[1]?.devices.map((d) => [d.id, d.status])).toEqual([
      ['house1:living_room:thermostat', { power: 'on' }],
      ['house1:living_room:lamp', {}],
    ])
  })

  it('lists every occupant by name with the houses it lives in, one in no house too', () => {
    const model = applyChanges(houses(), [
      put('hm_occupants', { id: 'rex', type: 'pet', known: 1 }),
      put('hm_house_occupants', { house_id: 'house10', occupant_id: 'sam' }),
    ])
    expect(occupantsView(model)).toEqual([
      { name: 'jimmy', type: 'child', known: true, houses: ['house1'] },
      { name: 'rex', type: 'pet', known: true, houses: [] },
      { name: 'sam', type: 'adult', known: true, houses: ['house1', 'house10'] },
      { name: 'visitor', type: 'adult', known: false, houses: ['house1'] },
    ])
  })

  it('shows a house with nothing in it', () => {
    expect(configurationOf(houses(), { kind: 'house', id: 'house10' })).toMatchObject({
      id: 'house10',
      address: '',
      occupants: [],
    })
  })

  it('is undefined for what is not defined', () => {
    const model = houses()
    expect(configurationOf(model, { kind: 'house', id: 'house9' })).toBeUndefined()
    expect(configurationOf(model, { kind: 'room', id: 'house1:attic' })).toBeUndefined()
    expect(configurationOf(model, { kind: 'device', id: 'house1:kitchen:toaster' })).toBeUndefined()
  })

  it('follows a status change', () => {
    const model = houses()
    turnOvenOff(model)
    expect(configurationOf(model, { kind: 'device', id: 'house1:kitchen:oven' })).toMatchObject({
      status: { power: 'off', temperature: '350' },
    })
  })
})

/** The houses with one more device. */
const housesWith = (...args: Parameters<typeof device>) => applyChanges(houses(), device(...args))

/** energyUseOf's whole answer for a target: the watts and the devices counted. */
const expectEnergyUse = (
  model: HouseModel,
  target: Parameters<typeof energyUseOf>[1],
  watts: number,
  devices: { id: string; watts: number }[],
) => expect(energyUseOf(model, target)).toEqual({ target: target.id, watts, devices })

describe('energyUseOf', () => {
  it('counts the appliances of a house that have a draw and are on', () => {
    expectEnergyUse(houses(), { kind: 'house', id: 'house1' }, 4900, [
      { id: 'house1:kitchen:oven', watts: 2400 },
      { id: 'house1:living_room:thermostat', watts: 1500 },
      { id: 'house1:kitchen2:oven', watts: 1000 },
    ])
  })

  it('never counts a device of another house whose id shares a prefix', () => {
    const model = houses()
    expect(energyUseOf(model, { kind: 'house', id: 'house1' }).devices.map((d) => d.id)).not.toContain(
      'house10:kitchen:oven',
    )
    expectEnergyUse(model, { kind: 'house', id: 'house10' }, 2400, [
      { id: 'house10:kitchen:oven', watts: 2400 },
    ])
  })

  it('counts a room, and not a room whose id shares a prefix', () => {
    const model = houses()
    expectEnergyUse(model, { kind: 'room', id: 'house1:kitchen' }, 2400, [
      { id: 'house1:kitchen:oven', watts: 2400 },
    ])
    expect(energyUseOf(model, { kind: 'room', id: 'house1:living_room' }).watts).toBe(1500)
  })

  it('counts one device, and not one whose id shares a prefix', () => {
    const model = housesWith('house1:kitchen:oven2', 'appliance', 'oven', 800, { power: 'on' })
    expectEnergyUse(model, { kind: 'device', id: 'house1:kitchen:oven' }, 2400, [
      { id: 'house1:kitchen:oven', watts: 2400 },
    ])
    expect(energyUseOf(model, { kind: 'room', id: 'house1:kitchen' }).watts).toBe(3200)
  })

  it('is nothing for a device that is off, has no power status, or has no known draw', () => {
    const model = houses()
    for (const id of ['house1:kitchen:ceiling_light', 'house1:living_room:lamp', 'house1:kitchen:kettle']) {
      expect(energyUseOf(model, { kind: 'device', id })).toEqual({ target: id, watts: 0, devices: [] })
    }
  })

  it('follows power going off', () => {
    const model = houses()
    turnOvenOff(model)
    expect(energyUseOf(model, { kind: 'house', id: 'house1' }).watts).toBe(2500)
  })

  it('counts only appliances: a sensor with a draw that reports power on is not counted', () => {
    const model = housesWith('house1:living_room:camera', 'sensor', 'camera', 5, { power: 'on' })
    expectEnergyUse(model, { kind: 'room', id: 'house1:living_room' }, 1500, [
      { id: 'house1:living_room:thermostat', watts: 1500 },
    ])
  })

  it('is nothing for a house with no devices or an unknown target', () => {
    const model = applyChanges(new HouseModel(), [put('hm_houses', { id: 'empty', address: '' })])
    expectEnergyUse(model, { kind: 'house', id: 'empty' }, 0, [])
    expectEnergyUse(houses(), { kind: 'house', id: 'house9' }, 0, [])
  })
})

describe('describeConfiguration', () => {
  it('describes a device with its status values', () => {
    const model = houses()
    expect(describeConfiguration(model, { kind: 'device', id: 'house1:kitchen:oven' })).toBe(
      'house1:kitchen:oven: appliance oven, power=on temperature=350',
    )
    expect(describeConfiguration(model, { kind: 'device', id: 'house1:living_room:lamp' })).toBe(
      'house1:living_room:lamp: appliance light',
    )
    expect(describeConfiguration(model, { kind: 'device', id: 'house1:kitchen:toaster' })).toBe('')
  })

  it('describes a room with its devices', () => {
    expect(describeConfiguration(houses(), { kind: 'room', id: 'house1:living_room' })).toBe(
      'house1:living_room: living_room [living_room, floor 1, 3 window(s): thermostat (appliance thermostat power=on), lamp (appliance light)]',
    )
    expect(describeConfiguration(houses(), { kind: 'room', id: 'house1:kitchen2' })).toBe(
      'house1:kitchen2: kitchen2 [kitchen, floor 2, 0 window(s): oven (appliance oven power=on)]',
    )
  })

  it('describes a room with no devices without a colon list', () => {
    const model = applyChanges(houses(), [room('house1:hall', 'hall', 0, 1)])
    expect(describeConfiguration(model, { kind: 'room', id: 'house1:hall' })).toBe(
      'house1:hall: hall [hall, floor 0, 1 window(s)]',
    )
  })

  it('describes a house: address, occupants sorted, rooms', () => {
    expect(describeConfiguration(houses(), { kind: 'house', id: 'house1' })).toBe(
      'house1 (1 Main Street): occupants jimmy, sam, visitor; rooms ' +
        'kitchen [kitchen, floor 1, 2 window(s): oven (appliance oven power=on temperature=350), ' +
        'ceiling_light (appliance light power=off), smoke (sensor smoke_detector smoke=clear), ' +
        'kettle (appliance kettle power=on)]; ' +
        'living_room [living_room, floor 1, 3 window(s): thermostat (appliance thermostat power=on), lamp (appliance light)]; ' +
        'kitchen2 [kitchen, floor 2, 0 window(s): oven (appliance oven power=on)]',
    )
  })

  it('describes an empty house with no address as none', () => {
    const model = applyChanges(new HouseModel(), [put('hm_houses', { id: 'house2', address: '' })])
    expect(describeConfiguration(model, { kind: 'house', id: 'house2' })).toBe(
      'house2: occupants none; rooms none',
    )
  })
})
