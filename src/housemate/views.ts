import type { DeviceRow } from '../store/schema.js'
import type { HouseModel } from './house-model.js'

/** What `show configuration` and `show energy-use` answer: plain JSON built from the model. Pure. */
export interface Target {
  kind: 'house' | 'room' | 'device'
  /** The entitlement resource id: `house`, `house:room` or `house:room:device`. */
  id: string
}

export function deviceView(model: HouseModel, device: DeviceRow) {
  const status = Object.fromEntries(
    [...(model.statuses.get(device.id)?.values() ?? [])].map((s) => [s.status, s.value]),
  )
  return {
    id: device.id,
    name: device.name,
    kind: device.kind,
    type: device.type,
    energy_use_watts: device.energy_use_watts,
    status,
  }
}

export function roomView(model: HouseModel, roomId: string) {
  const room = model.rooms.get(roomId)
  if (!room) return undefined
  return {
    id: room.id,
    name: room.name,
    floor: room.floor,
    type: room.type,
    windows: room.windows,
    devices: model.devicesIn(room.id).map((d) => deviceView(model, d)),
  }
}

export function houseView(model: HouseModel, houseId: string) {
  const house = model.houses.get(houseId)
  if (!house) return undefined
  return {
    id: house.id,
    address: house.address,
    occupants: [...(model.houseOccupants.get(house.id) ?? [])].sort().map((name) => ({
      name,
      type: model.occupants.get(name)?.type ?? 'unknown',
      known: model.occupants.get(name)?.known !== 0,
    })),
    rooms: model.roomsOf(house.id).map((r) => roomView(model, r.id)),
  }
}

/** Every occupant by name, with the houses it lives in: an occupant in no house is listed too. */
export function occupantsView(model: HouseModel) {
  return [...model.occupants.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((o) => ({
      name: o.id,
      type: o.type,
      known: o.known !== 0,
      houses: [...model.houseOccupants]
        .filter(([, ids]) => ids.has(o.id))
        .map(([house]) => house)
        .sort(),
    }))
}

export function configurationOf(model: HouseModel, target: Target) {
  if (target.kind === 'house') return houseView(model, target.id)
  if (target.kind === 'room') return roomView(model, target.id)
  const device = model.devices.get(target.id)
  return device ? deviceView(model, device) : undefined
}

/** Watts drawn now: appliances with a known draw whose `power` status is `on`. */
export function energyUseOf(model: HouseModel, target: Target) {
  const devices = [...model.devices.values()].filter(
    (d) => d.id === target.id || d.id.startsWith(`${target.id}:`),
  )
  const drawing = devices
    .filter(
      (d) => d.kind === 'appliance' && d.energy_use_watts !== null && model.status(d.id, 'power') === 'on',
    )
    .map((d) => ({ id: d.id, watts: d.energy_use_watts as number }))
  return { target: target.id, watts: drawing.reduce((sum, d) => sum + d.watts, 0), devices: drawing }
}

/** One line for a person: the shape of a house, room or device. */
export function describeConfiguration(model: HouseModel, target: Target): string {
  const devices = (roomId: string) =>
    model
      .devicesIn(roomId)
      .map((d) => {
        const status = [...(model.statuses.get(d.id)?.values() ?? [])]
          .map((s) => `${s.status}=${s.value}`)
          .join(' ')
        return `${d.name} (${d.kind} ${d.type}${status ? ` ${status}` : ''})`
      })
      .join(', ')
  const room = (roomId: string) => {
    const r = model.rooms.get(roomId)
    return r
      ? `${r.name} [${r.type}, floor ${r.floor}, ${r.windows} window(s)${model.devicesIn(roomId).length ? `: ${devices(roomId)}` : ''}]`
      : ''
  }
  if (target.kind === 'device') {
    const d = model.devices.get(target.id)
    const status = [...(model.statuses.get(target.id)?.values() ?? [])]
      .map((s) => `${s.status}=${s.value}`)
      .join(' ')
    return d ? `${d.id}: ${d.kind} ${d.type}${status ? `, ${status}` : ''}` : ''
  }
  if (target.kind === 'room') return `${target.id}: ${room(target.id)}`
  const house = model.houses.get(target.id)
  const occupants = [...(model.houseOccupants.get(target.id) ?? [])].sort().join(', ')
  const rooms = model.roomsOf(target.id).map((r) => room(r.id))
  return `${target.id}${house?.address ? ` (${house.address})` : ''}: occupants ${occupants || 'none'}; rooms ${rooms.join('; ') || 'none'}`
}
