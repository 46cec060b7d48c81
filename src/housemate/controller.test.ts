import { describe, expect, it } from 'vitest'
import { applyChanges, expectFailure, put } from '../../test/support/unit.js'
import type { ErrorCode } from '../errors.js'
import type { DeviceRow } from '../store/schema.js'
import type { PlannedChange } from '../store/store.js'
import { resolveTarget } from './controller.js'
import { HouseModel } from './house-model.js'

const room = (id: string): PlannedChange => {
  const [house = '', name = ''] = id.split(':')
  return put('hm_rooms', { id, house_id: house, name, floor: 1, type: name, windows: 1 })
}

const device = (id: string, type: string, kind: DeviceRow['kind'] = 'appliance'): PlannedChange => {
  const [house = '', roomName = '', name = ''] = id.split(':')
  return put('hm_devices', {
    id,
    room_id: `${house}:${roomName}`,
    name,
    kind,
    type,
    energy_use_watts: null,
  })
}

/**
 * house1: a kitchen (ava the listener, an oven, a light), a living room (a light, a door, a thermostat), a
 * bedroom (a light, a thermostat), a hall (ava2, nothing else). house10, whose id starts with house1's: a
 * kitchen with a window and a door.
 */
function model(): HouseModel {
  return applyChanges(new HouseModel(), [
    put('hm_houses', { id: 'house1', address: '' }),
    put('hm_houses', { id: 'house10', address: '' }),
    room('house1:kitchen'),
    room('house1:living_room'),
    room('house1:bedroom'),
    room('house1:hall'),
    room('house10:kitchen'),
    device('house1:kitchen:ava', 'ava', 'sensor'),
    device('house1:kitchen:oven', 'oven'),
    device('house1:kitchen:ceiling_light', 'light'),
    device('house1:living_room:lamp', 'light'),
    device('house1:living_room:front_door', 'door'),
    device('house1:living_room:thermostat', 'thermostat'),
    device('house1:bedroom:bedside_light', 'light'),
    device('house1:bedroom:thermostat', 'thermostat'),
    device('house1:hall:ava2', 'ava', 'sensor'),
    device('house10:kitchen:window', 'window'),
    device('house10:kitchen:back_door', 'door'),
  ])
}

/** resolveTarget refuses: the error's kind and message. */
const expectRefusal = (
  m: HouseModel,
  roomId: string,
  houseId: string,
  type: string,
  kind: ErrorCode,
  message: string,
) => expectFailure(() => resolveTarget(m, roomId, houseId, type), kind, message)

describe('resolveTarget', () => {
  it("prefers a device of that type in the speaker's room, though the house has others", () => {
    const m = model()
    expect(resolveTarget(m, 'house1:kitchen', 'house1', 'light').id).toBe('house1:kitchen:ceiling_light')
    expect(resolveTarget(m, 'house1:living_room', 'house1', 'light').id).toBe('house1:living_room:lamp')
    expect(resolveTarget(m, 'house1:bedroom', 'house1', 'thermostat').id).toBe('house1:bedroom:thermostat')
  })

  it('returns the whole device row', () => {
    expect(resolveTarget(model(), 'house1:kitchen', 'house1', 'oven')).toEqual({
      id: 'house1:kitchen:oven',
      room_id: 'house1:kitchen',
      name: 'oven',
      kind: 'appliance',
      type: 'oven',
      energy_use_watts: null,
    })
  })

  it('takes the first of several in the room', () => {
    const m = applyChanges(model(), [device('house1:kitchen:spotlight', 'light')])
    expect(resolveTarget(m, 'house1:kitchen', 'house1', 'light').id).toBe('house1:kitchen:ceiling_light')
  })

  it('falls back to the only one in the house', () => {
    const m = model()
    expect(resolveTarget(m, 'house1:hall', 'house1', 'oven').id).toBe('house1:kitchen:oven')
    expect(resolveTarget(m, 'house1:kitchen', 'house1', 'door').id).toBe('house1:living_room:front_door')
  })

  it('is NotFound when the house has none', () => {
    expectRefusal(
      model(),
      'house1:kitchen',
      'house1',
      'window',
      'NotFound',
      'there is no window in house1:kitchen or elsewhere in house1',
    )
  })

  it('is a Conflict naming them all when the house has several and the room none', () => {
    const m = model()
    expectRefusal(
      m,
      'house1:hall',
      'house1',
      'light',
      'Conflict',
      'there is no light in house1:hall, and house1 has several: house1:kitchen:ceiling_light, house1:living_room:lamp, house1:bedroom:bedside_light; speak in the room',
    )
    expectRefusal(
      m,
      'house1:kitchen',
      'house1',
      'thermostat',
      'Conflict',
      'there is no thermostat in house1:kitchen, and house1 has several: house1:living_room:thermostat, house1:bedroom:thermostat; speak in the room',
    )
  })

  it('ignores devices of other houses, even one whose id shares a prefix', () => {
    const m = model()
    // house10's window is the only window anywhere, but not in house1.
    expectRefusal(
      m,
      'house1:kitchen',
      'house1',
      'window',
      'NotFound',
      'there is no window in house1:kitchen or elsewhere in house1',
    )
    // house1 has one door and house10 another: house1's is still the only one.
    expect(resolveTarget(m, 'house1:hall', 'house1', 'door').id).toBe('house1:living_room:front_door')
    // And the other way round.
    expect(resolveTarget(m, 'house10:kitchen', 'house10', 'door').id).toBe('house10:kitchen:back_door')
    expectRefusal(
      m,
      'house10:kitchen',
      'house10',
      'oven',
      'NotFound',
      'there is no oven in house10:kitchen or elsewhere in house10',
    )
  })

  it('matches the type exactly', () => {
    const m = applyChanges(model(), [device('house1:hall:light_strip', 'lights')])
    expect(resolveTarget(m, 'house1:hall', 'house1', 'lights').id).toBe('house1:hall:light_strip')
    expect(() => resolveTarget(m, 'house1:hall', 'house1', 'light')).toThrow(/has several/)
  })
})
