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

/** What a user does with a device: set one of its status values, or show them. */
export type DeviceAction = 'set_status' | 'show'

/** The permissions that let a user do `action` with `device`: any one of them. */
export const devicePermissions = (device: Pick<DeviceRow, 'type'>, action: DeviceAction) =>
  action === 'set_status'
    ? [controlPermission(device.type)]
    : [viewPermission(device.type), controlPermission(device.type)]

/** May `userId` do `action` with `device`? */
export function decideDevice(
  index: EntitlementIndex,
  userId: string,
  device: Pick<DeviceRow, 'id' | 'type'>,
  action: DeviceAction,
): Decision {
  return decideAccessAny(index, userId, devicePermissions(device, action), device.id)
}
