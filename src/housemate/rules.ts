import type { Decision } from '../decision/decision.js'
import type { EntitlementIndex } from '../entitlements/entitlement-index.js'
import { decideAccessAny } from '../entitlements/rules.js'
import type { DeviceRow } from '../store/schema.js'

/**
 * Who may do what in a house, as entitlement rules: a device of type T is changed with `control_T` and seen
 * with `view_T` or `control_T`, held on the device, its room or its house. Pure: reads only the Index.
 */

export const controlPermission = (type: string) => `control_${type}`
export const viewPermission = (type: string) => `view_${type}`
/** Needed on a house, room or device to show its configuration. */
export const VIEW_CONFIGURATION = 'view_configuration'
/** Needed on a house, room or device to show its energy use. */
export const VIEW_ENERGY_USE = 'view_energy_use'

/** The permissions that let a user set a device's status: any one of them. */
export const setStatusPermissions = (device: Pick<DeviceRow, 'type'>) => [controlPermission(device.type)]

/** The permissions that let a user show a device's status: any one of them. */
export const showDevicePermissions = (device: Pick<DeviceRow, 'type'>) => [
  viewPermission(device.type),
  controlPermission(device.type),
]

/** May `userId` set a status of `device`? */
export function decideSetStatus(
  index: EntitlementIndex,
  userId: string,
  device: Pick<DeviceRow, 'id' | 'type'>,
): Decision {
  return decideAccessAny(index, userId, setStatusPermissions(device), device.id)
}

/** May `userId` show the status of `device`? */
export function decideShowDevice(
  index: EntitlementIndex,
  userId: string,
  device: Pick<DeviceRow, 'id' | 'type'>,
): Decision {
  return decideAccessAny(index, userId, showDevicePermissions(device), device.id)
}
