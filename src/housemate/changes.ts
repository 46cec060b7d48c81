import type { EntitlementIndex } from '../entitlements/entitlement-index.js'
import { conflict, invalid, notFound } from '../errors.js'
import type { Plan } from '../kernel/write-plan.js'
import type { DeviceKind, DeviceRow, OccupantType } from '../store/schema.js'
import type { PlannedChange } from '../store/store.js'
import { checkId } from '../validation.js'
import { requireHouse, requireRoom } from './addresses.js'
import type { HouseModel } from './house-model.js'
import { controlPermission, VIEW_CONFIGURATION, VIEW_ENERGY_USE, viewPermission } from './rules.js'

/**
 * Pure write planners for the House Mate model. Houses, rooms and devices are also entitlement resources, nested
 * house > room > device under the ids `house`, `house:room`, `house:room:device`, so that a resource role
 * on a house covers everything in it.
 */
export const OCCUPANT_TYPES: readonly OccupantType[] = ['adult', 'child', 'pet']
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/
const TYPE = /^[a-z][a-z0-9_]{0,49}$/

/** Device types whose permissions every resident role is given by default. */
export const STANDARD_DEVICE_TYPES = ['light', 'oven', 'thermostat', 'door', 'window'] as const

/** Default permissions of the resident roles that adding an occupant creates when they are missing. */
const residentDefaults: Record<OccupantType, string[]> = {
  adult: [
    ...STANDARD_DEVICE_TYPES.flatMap((t) => [controlPermission(t), viewPermission(t)]),
    VIEW_CONFIGURATION,
    VIEW_ENERGY_USE,
  ],
  child: [
    controlPermission('light'),
    controlPermission('door'),
    controlPermission('window'),
    ...STANDARD_DEVICE_TYPES.map(viewPermission),
    VIEW_CONFIGURATION,
  ],
  pet: [],
}

function checkName(kind: string, name: string): void {
  if (!NAME.test(name)) {
    throw invalid(
      `${kind} name "${name}" is not valid: use 1-100 letters, digits and _ . @ -, starting with a letter or digit`,
    )
  }
}

function checkType(kind: string, type: string): void {
  if (!TYPE.test(type))
    throw invalid(`${kind} type "${type}" is not valid: use lower-case letters, digits and _`)
}

/** Registers `id` as a resource inside `parent`, unless it already is one there. */
function resource(
  index: EntitlementIndex,
  id: string,
  description: string,
  parent: string | null,
): PlannedChange[] {
  const existing = index.resources.get(id)
  if (existing) {
    if (existing.parent_id !== parent) {
      throw conflict(
        `resource ${id} already exists inside ${existing.parent_id ?? 'nothing'}, not ${parent ?? 'at the top'}`,
      )
    }
    return []
  }
  return [{ tbl: 'resources', op: 'put', row: { id, description, parent_id: parent } }]
}

/** Defines the permissions a device type needs, where missing. */
function ensurePermissions(index: EntitlementIndex, ids: readonly string[]): PlannedChange[] {
  return ids
    .filter((id) => !index.permissions.has(id))
    .map((id) => {
      const [verb, ...rest] = id.split('_')
      const what = rest.join(' ')
      return {
        tbl: 'permissions',
        op: 'put',
        row: {
          id,
          name: `${verb === 'view' ? 'View' : 'Control'} ${what}`,
          description: `${verb === 'view' ? 'See' : 'Change'} ${what}`,
          builtin: 0,
        },
      } as PlannedChange
    })
}

export function defineHouse(
  index: EntitlementIndex,
  model: HouseModel,
  input: { id: string; address: string },
): Plan {
  checkName('house', input.id)
  checkId('resource', input.id)
  if (model.houses.has(input.id)) throw conflict(`house ${input.id} is already defined`)
  return {
    changes: [
      ...resource(index, input.id, `House ${input.id}`, null),
      { tbl: 'hm_houses', op: 'put', row: { id: input.id, address: input.address } },
    ],
    summary: `defined house ${input.id}${input.address ? ` at ${input.address}` : ''}`,
  }
}

export function defineRoom(
  index: EntitlementIndex,
  model: HouseModel,
  input: { house: string; room: string; floor: number; type: string; windows: number },
): Plan {
  checkName('room', input.room)
  checkType('room', input.type)
  requireHouse(model, input.house)
  const id = `${input.house}:${input.room}`
  if (model.rooms.has(id)) throw conflict(`room ${id} is already defined`)
  return {
    changes: [
      ...resource(index, id, `Room ${input.room} of ${input.house}`, input.house),
      {
        tbl: 'hm_rooms',
        op: 'put',
        row: {
          id,
          house_id: input.house,
          name: input.room,
          floor: input.floor,
          type: input.type,
          windows: input.windows,
        },
      },
    ],
    summary: `defined room ${id} (${input.type}, floor ${input.floor}, ${input.windows} window(s))`,
  }
}

/**
 * `voiceDigest` is the digest of the default voice print `--<name>--`, made before the write. A known
 * occupant gets a user and that voice print; an unknown one (someone the sensors noticed but nobody named)
 * gets neither, so nobody can speak as it.
 */
export function defineOccupant(
  index: EntitlementIndex,
  model: HouseModel,
  input: { name: string; type: OccupantType; known?: boolean },
  voiceDigest: string,
): Plan {
  checkName('occupant', input.name)
  if (!OCCUPANT_TYPES.includes(input.type))
    throw invalid(`occupant type must be adult, child or pet, not "${input.type}"`)
  if (model.occupants.has(input.name)) throw conflict(`occupant ${input.name} is already defined`)
  const known = input.known !== false
  const changes: PlannedChange[] = [
    { tbl: 'hm_occupants', op: 'put', row: { id: input.name, type: input.type, known: known ? 1 : 0 } },
  ]
  if (!known)
    return {
      changes,
      summary: `defined unknown ${input.type} occupant ${input.name} (no user, no voice print)`,
    }
  const notes: string[] = []
  if (!index.users.has(input.name)) {
    changes.push({ tbl: 'users', op: 'put', row: { id: input.name, name: input.name } })
    notes.push(`created user ${input.name}`)
  }
  if (!index.voicePrintOf.has(input.name)) {
    const owner = index.voicePrints.get(voiceDigest)
    if (owner && owner !== input.name)
      throw conflict(`the voice print --${input.name}-- already identifies user ${owner}`)
    changes.push({
      tbl: 'credentials',
      op: 'put',
      row: { user_id: input.name, kind: 'voice_print', secret_hash: voiceDigest },
    })
    notes.push(`voice print --${input.name}--`)
  }
  return {
    changes,
    summary: `defined ${input.type} occupant ${input.name}${notes.length ? ` (${notes.join(', ')})` : ''}`,
  }
}

export function addOccupantToHouse(
  index: EntitlementIndex,
  model: HouseModel,
  name: string,
  house: string,
): Plan {
  const occupant = model.occupants.get(name)
  if (!occupant) throw notFound(`occupant ${name} is not defined`)
  requireHouse(model, house)
  if (occupant.known === 0) {
    if (model.houseOccupants.get(house)?.has(name))
      return { changes: [], summary: `${name} already lives in ${house}` }
    return {
      changes: [{ tbl: 'hm_house_occupants', op: 'put', row: { house_id: house, occupant_id: name } }],
      summary: `added unknown ${occupant.type} ${name} to ${house} (no entitlements: nobody can speak as it)`,
    }
  }
  if (!index.users.has(name)) throw notFound(`occupant ${name} has no user: its user was deleted`)
  const roleId = `${occupant.type}_resident`
  const resourceRoleId = `${house}_${occupant.type}_resident`
  const changes: PlannedChange[] = []
  const notes: string[] = []
  if (!index.roles.has(roleId)) {
    const permissions = residentDefaults[occupant.type]
    changes.push(...ensurePermissions(index, permissions))
    changes.push({
      tbl: 'roles',
      op: 'put',
      row: {
        id: roleId,
        name: `${occupant.type} resident`,
        description: `Default permissions of ${occupant.type === 'adult' ? 'an' : 'a'} ${occupant.type} resident`,
      },
    })
    for (const p of permissions) {
      changes.push({
        tbl: 'role_entitlements',
        op: 'put',
        row: { role_id: roleId, entitlement_kind: 'permission', entitlement_id: p },
      })
    }
    notes.push(`created role ${roleId}`)
  }
  const existing = index.resourceRoles.get(resourceRoleId)
  if (!existing) {
    changes.push({
      tbl: 'resource_roles',
      op: 'put',
      row: { id: resourceRoleId, role_id: roleId, resource_id: house },
    })
    notes.push(`created resource role ${resourceRoleId}`)
  } else if (existing.role_id !== roleId || existing.resource_id !== house) {
    throw conflict(
      `resource role ${resourceRoleId} exists but binds ${existing.role_id} to ${existing.resource_id}, not ${roleId} to ${house}`,
    )
  }
  if (!index.userResourceRoles.get(name)?.has(resourceRoleId)) {
    changes.push({
      tbl: 'user_grants',
      op: 'put',
      row: { user_id: name, grant_kind: 'resource_role', target_id: resourceRoleId },
    })
  }
  if (!model.houseOccupants.get(house)?.has(name)) {
    changes.push({ tbl: 'hm_house_occupants', op: 'put', row: { house_id: house, occupant_id: name } })
  }
  if (changes.length === 0) return { changes, summary: `${name} already lives in ${house}` }
  return {
    changes,
    summary: `added ${occupant.type} ${name} to ${house} as ${resourceRoleId}${notes.length ? ` (${notes.join(', ')})` : ''}`,
  }
}

export function defineDevice(
  index: EntitlementIndex,
  model: HouseModel,
  input: { kind: DeviceKind; name: string; type: string; roomId: string; energyUseWatts: number | null },
): Plan {
  checkName(input.kind, input.name)
  checkType(input.kind, input.type)
  if (input.kind === 'sensor' && input.energyUseWatts !== null)
    throw invalid('only appliances have an energy use; a sensor has none')
  requireRoom(model, input.roomId)
  const id = `${input.roomId}:${input.name}`
  if (model.devices.has(id)) throw conflict(`device ${id} is already defined`)
  return {
    changes: [
      ...ensurePermissions(index, [controlPermission(input.type), viewPermission(input.type)]),
      ...resource(index, id, `${input.type} ${input.name} in ${input.roomId}`, input.roomId),
      {
        tbl: 'hm_devices',
        op: 'put',
        row: {
          id,
          room_id: input.roomId,
          name: input.name,
          kind: input.kind,
          type: input.type,
          energy_use_watts: input.energyUseWatts,
        },
      },
    ],
    summary: `defined ${input.kind} ${id} (${input.type}${input.energyUseWatts !== null ? `, ${input.energyUseWatts} W` : ''})`,
  }
}

export function setDeviceStatus(
  device: DeviceRow,
  status: string,
  value: string,
  now: string,
  by: string,
): Plan {
  if (!/^[a-z][a-z0-9_-]{0,49}$/.test(status))
    throw invalid(`status name "${status}" is not valid: use lower-case letters, digits, _ and -`)
  if (value === '' || value.length > 200) throw invalid(`the value of ${status} must be 1 to 200 characters`)
  return {
    changes: [
      { tbl: 'hm_device_status', op: 'put', row: { device_id: device.id, status, value, updated_at: now } },
    ],
    summary: `${by} set ${device.id} ${status} to ${value}`,
  }
}
