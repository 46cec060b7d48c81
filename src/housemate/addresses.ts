import { invalid, notFound } from '../errors.js'
import type { DeviceKind, DeviceRow } from '../store/schema.js'
import type { HouseModel } from './house-model.js'

/** Where a house, room or device is: its address parsed, and looked up in the model (or refused by name). */

export interface DeviceAddress {
  house: string
  room: string
  device: string
  id: string
  roomId: string
}

/** `<house>:<room>:<device>`; each part a name. */
export function parseDeviceAddress(text: string): DeviceAddress {
  const parts = text.split(':')
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw invalid(`"${text}" is not a device address: expected <house>:<room>:<device>`)
  }
  const [house, room, device] = parts as [string, string, string]
  return { house, room, device, id: text, roomId: `${house}:${room}` }
}

/** `<house>:<room>`. */
export function parseRoomAddress(text: string): { house: string; room: string; id: string } {
  const parts = text.split(':')
  if (parts.length !== 2 || parts.some((p) => p === '')) {
    throw invalid(`"${text}" is not a room address: expected <house>:<room>`)
  }
  const [house, room] = parts as [string, string]
  return { house, room, id: text }
}

export function requireHouse(model: HouseModel, house: string): void {
  if (!model.houses.has(house)) throw notFound(`house ${house} is not defined`)
}

export function requireRoom(model: HouseModel, roomId: string): void {
  const [house = ''] = roomId.split(':')
  requireHouse(model, house)
  if (!model.rooms.has(roomId)) throw notFound(`room ${roomId} is not defined`)
}

export function requireDevice(model: HouseModel, address: DeviceAddress, kind?: DeviceKind): DeviceRow {
  requireRoom(model, address.roomId)
  const device = model.devices.get(address.id)
  if (!device || (kind && device.kind !== kind)) {
    const other = device ? ` (it is ${device.kind === 'appliance' ? 'an appliance' : 'a sensor'})` : ''
    throw notFound(`${kind ?? 'device'} ${address.id} is not defined${other}`)
  }
  return device
}
