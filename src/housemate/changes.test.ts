import { describe, expect, it } from 'vitest'
import { AT, expectFailure } from '../../test/support/unit.js'
import { EntitlementIndex } from '../entitlements/entitlement-index.js'
import type { Plan } from '../kernel/write-plan.js'
import type { DeviceRow } from '../store/schema.js'
import type { Change, PlannedChange } from '../store/store.js'
import { parseDeviceAddress, parseRoomAddress } from './addresses.js'
import {
  addOccupantToHouse,
  defineDevice,
  defineHouse,
  defineOccupant,
  defineRoom,
  setDeviceStatus,
} from './changes.js'
import { HouseModel } from './house-model.js'

/** The part of the Index these plans read. */
interface Projections {
  index: EntitlementIndex
  model: HouseModel
}

/** Commits changes to both projections, as the store would, with revisions following the latest. */
function commitChanges(world: Projections, changes: readonly PlannedChange[]): void {
  const start = Math.max(world.index.revision, world.model.revision)
  const stamped = changes.map((change, i) => ({ ...change, revision: start + i + 1, at: AT }) as Change)
  world.index.apply(stamped)
  world.model.apply(stamped)
}

function commit(world: Projections, plan: Plan): Plan {
  commitChanges(world, plan.changes)
  return plan
}

function fresh(): Projections {
  return { index: new EntitlementIndex(), model: new HouseModel() }
}

const tablesOf = (plan: Plan) => plan.changes.map((c) => c.tbl)
const rowsOf = (plan: Plan, tbl: PlannedChange['tbl']) =>
  plan.changes.filter((c) => c.tbl === tbl).map((c) => c.row)

/** house1 with a kitchen and a living room. */
function withRooms(): Projections {
  const world = fresh()
  commit(world, defineHouse(world.index, world.model, { id: 'house1', address: '1 Main Street' }))
  for (const [room, type] of [
    ['kitchen', 'kitchen'],
    ['living_room', 'living_room'],
  ] as const) {
    commit(world, defineRoom(world.index, world.model, { house: 'house1', room, floor: 1, type, windows: 2 }))
  }
  return world
}

const ADULT_DEFAULTS = [
  'control_light',
  'view_light',
  'control_oven',
  'view_oven',
  'control_thermostat',
  'view_thermostat',
  'control_door',
  'view_door',
  'control_window',
  'view_window',
  'view_configuration',
  'view_energy_use',
]

const CHILD_DEFAULTS = [
  'control_light',
  'control_door',
  'control_window',
  'view_light',
  'view_oven',
  'view_thermostat',
  'view_door',
  'view_window',
  'view_configuration',
]

describe('parseDeviceAddress', () => {
  it('splits <house>:<room>:<device>', () => {
    expect(parseDeviceAddress('house1:kitchen:oven')).toEqual({
      house: 'house1',
      room: 'kitchen',
      device: 'oven',
      id: 'house1:kitchen:oven',
      roomId: 'house1:kitchen',
    })
  })

  it.each([
    'house1:kitchen',
    'house1:kitchen:oven:extra',
    'house1::oven',
    ':kitchen:oven',
    'house1:kitchen:',
    '',
  ])('refuses %j', (text) => {
    expectFailure(
      () => parseDeviceAddress(text),
      'Validation',
      `"${text}" is not a device address: expected <house>:<room>:<device>`,
    )
  })
})

describe('parseRoomAddress', () => {
  it('splits <house>:<room>', () => {
    expect(parseRoomAddress('house1:kitchen')).toEqual({
      house: 'house1',
      room: 'kitchen',
      id: 'house1:kitchen',
    })
  })

  it.each(['house1', 'house1:kitchen:oven', ':kitchen', 'house1:', ''])('refuses %j', (text) => {
    expectFailure(
      () => parseRoomAddress(text),
      'Validation',
      `"${text}" is not a room address: expected <house>:<room>`,
    )
  })
})

describe('defineHouse', () => {
  it('creates the top-level resource and the house', () => {
    const { index, model } = fresh()
    const plan = defineHouse(index, model, { id: 'house1', address: '1 Main Street' })
    expect(plan).toEqual({
      changes: [
        { tbl: 'resources', op: 'put', row: { id: 'house1', description: 'House house1', parent_id: null } },
        { tbl: 'hm_houses', op: 'put', row: { id: 'house1', address: '1 Main Street' } },
      ],
      summary: 'defined house house1 at 1 Main Street',
    })
  })

  it('says nothing of an empty address', () => {
    const { index, model } = fresh()
    expect(defineHouse(index, model, { id: 'house1', address: '' }).summary).toBe('defined house house1')
  })

  it('reuses an existing top-level resource of the same id', () => {
    const world = fresh()
    commitChanges(world, [
      { tbl: 'resources', op: 'put', row: { id: 'house1', description: 'from the seed', parent_id: null } },
    ])
    const plan = defineHouse(world.index, world.model, { id: 'house1', address: '1 Main Street' })
    expect(plan.changes).toEqual([
      { tbl: 'hm_houses', op: 'put', row: { id: 'house1', address: '1 Main Street' } },
    ])
    commit(world, plan)
    expect(world.index.resources.get('house1')?.description).toBe('from the seed')
    expect(world.model.houses.get('house1')).toEqual({ id: 'house1', address: '1 Main Street' })
  })

  it('refuses a house already defined', () => {
    const world = fresh()
    commit(world, defineHouse(world.index, world.model, { id: 'house1', address: '' }))
    expectFailure(
      () => defineHouse(world.index, world.model, { id: 'house1', address: 'elsewhere' }),
      'Conflict',
      'house house1 is already defined',
    )
  })

  it('refuses when a resource of that id sits inside another', () => {
    const world = fresh()
    commitChanges(world, [
      { tbl: 'resources', op: 'put', row: { id: 'campus', description: 'Campus', parent_id: null } },
      { tbl: 'resources', op: 'put', row: { id: 'house1', description: 'a building', parent_id: 'campus' } },
    ])
    expectFailure(
      () => defineHouse(world.index, world.model, { id: 'house1', address: '' }),
      'Conflict',
      'resource house1 already exists inside campus, not at the top',
    )
  })

  it.each(['house:1', 'my house', '-house', ''])('refuses the name %j', (id) => {
    const { index, model } = fresh()
    expectFailure(
      () => defineHouse(index, model, { id, address: '' }),
      'Validation',
      /^house name ".*" is not valid/,
    )
  })
})

describe('defineRoom', () => {
  it('needs the house', () => {
    const { index, model } = fresh()
    expectFailure(
      () =>
        defineRoom(index, model, { house: 'house1', room: 'kitchen', floor: 1, type: 'kitchen', windows: 2 }),
      'NotFound',
      'house house1 is not defined',
    )
  })

  it('creates the room as a resource inside the house', () => {
    const world = fresh()
    commit(world, defineHouse(world.index, world.model, { id: 'house1', address: '' }))
    const plan = defineRoom(world.index, world.model, {
      house: 'house1',
      room: 'kitchen',
      floor: 1,
      type: 'kitchen',
      windows: 2,
    })
    expect(plan).toEqual({
      changes: [
        {
          tbl: 'resources',
          op: 'put',
          row: { id: 'house1:kitchen', description: 'Room kitchen of house1', parent_id: 'house1' },
        },
        {
          tbl: 'hm_rooms',
          op: 'put',
          row: {
            id: 'house1:kitchen',
            house_id: 'house1',
            name: 'kitchen',
            floor: 1,
            type: 'kitchen',
            windows: 2,
          },
        },
      ],
      summary: 'defined room house1:kitchen (kitchen, floor 1, 2 window(s))',
    })
    commit(world, plan)
    expect(world.index.resources.get('house1:kitchen')?.parent_id).toBe('house1')
    expect(world.model.roomsOf('house1').map((r) => r.id)).toEqual(['house1:kitchen'])
  })

  it('refuses a room already defined', () => {
    const world = withRooms()
    expectFailure(
      () =>
        defineRoom(world.index, world.model, {
          house: 'house1',
          room: 'kitchen',
          floor: 2,
          type: 'kitchen',
          windows: 0,
        }),
      'Conflict',
      'room house1:kitchen is already defined',
    )
  })

  it('refuses when the room resource exists inside something else', () => {
    const world = fresh()
    commit(world, defineHouse(world.index, world.model, { id: 'house1', address: '' }))
    commitChanges(world, [
      { tbl: 'resources', op: 'put', row: { id: 'house1:kitchen', description: 'stray', parent_id: null } },
    ])
    expectFailure(
      () =>
        defineRoom(world.index, world.model, {
          house: 'house1',
          room: 'kitchen',
          floor: 1,
          type: 'kitchen',
          windows: 1,
        }),
      'Conflict',
      'resource house1:kitchen already exists inside nothing, not house1',
    )
  })

  it('refuses a bad room name or type', () => {
    const world = withRooms()
    expectFailure(
      () =>
        defineRoom(world.index, world.model, {
          house: 'house1',
          room: 'a:b',
          floor: 1,
          type: 'kitchen',
          windows: 1,
        }),
      'Validation',
      /^room name "a:b" is not valid/,
    )
    expectFailure(
      () =>
        defineRoom(world.index, world.model, {
          house: 'house1',
          room: 'den',
          floor: 1,
          type: 'Den',
          windows: 1,
        }),
      'Validation',
      'room type "Den" is not valid: use lower-case letters, digits and _',
    )
  })
})

describe('defineDevice', () => {
  const oven = {
    kind: 'appliance' as const,
    name: 'oven',
    type: 'oven',
    roomId: 'house1:kitchen',
    energyUseWatts: 2400,
  }

  it('needs the house and the room', () => {
    const world = withRooms()
    expectFailure(
      () => defineDevice(world.index, world.model, { ...oven, roomId: 'house1:attic' }),
      'NotFound',
      'room house1:attic is not defined',
    )
    expectFailure(
      () => defineDevice(world.index, world.model, { ...oven, roomId: 'house9:kitchen' }),
      'NotFound',
      'house house9 is not defined',
    )
  })

  it('creates the permissions of its type, and the device as a resource inside the room', () => {
    const world = withRooms()
    const plan = defineDevice(world.index, world.model, oven)
    expect(plan).toEqual({
      changes: [
        {
          tbl: 'permissions',
          op: 'put',
          row: { id: 'control_oven', name: 'Control oven', description: 'Change oven', builtin: 0 },
        },
        {
          tbl: 'permissions',
          op: 'put',
          row: { id: 'view_oven', name: 'View oven', description: 'See oven', builtin: 0 },
        },
        {
          tbl: 'resources',
          op: 'put',
          row: {
            id: 'house1:kitchen:oven',
            description: 'oven oven in house1:kitchen',
            parent_id: 'house1:kitchen',
          },
        },
        {
          tbl: 'hm_devices',
          op: 'put',
          row: {
            id: 'house1:kitchen:oven',
            room_id: 'house1:kitchen',
            name: 'oven',
            kind: 'appliance',
            type: 'oven',
            energy_use_watts: 2400,
          },
        },
      ],
      summary: 'defined appliance house1:kitchen:oven (oven, 2400 W)',
    })
    commit(world, plan)
    expect([...world.index.lineage('house1:kitchen:oven')]).toEqual([
      'house1:kitchen:oven',
      'house1:kitchen',
      'house1',
    ])
  })

  it('creates only the permissions that are missing', () => {
    const world = withRooms()
    commit(world, defineDevice(world.index, world.model, oven))
    const second = defineDevice(world.index, world.model, {
      ...oven,
      name: 'oven2',
      roomId: 'house1:living_room',
    })
    expect(tablesOf(second)).toEqual(['resources', 'hm_devices'])

    commitChanges(world, [
      {
        tbl: 'permissions',
        op: 'put',
        row: { id: 'view_light', name: 'Lights', description: 'seen', builtin: 0 },
      },
    ])
    const light = defineDevice(world.index, world.model, {
      kind: 'appliance',
      name: 'ceiling_light',
      type: 'light',
      roomId: 'house1:kitchen',
      energyUseWatts: 60,
    })
    expect(rowsOf(light, 'permissions')).toEqual([
      { id: 'control_light', name: 'Control light', description: 'Change light', builtin: 0 },
    ])
  })

  it('names the permissions of a multi-word type, and leaves out an unknown draw', () => {
    const world = withRooms()
    const plan = defineDevice(world.index, world.model, {
      kind: 'sensor',
      name: 'smoke',
      type: 'smoke_detector',
      roomId: 'house1:kitchen',
      energyUseWatts: null,
    })
    expect(rowsOf(plan, 'permissions')).toEqual([
      {
        id: 'control_smoke_detector',
        name: 'Control smoke detector',
        description: 'Change smoke detector',
        builtin: 0,
      },
      {
        id: 'view_smoke_detector',
        name: 'View smoke detector',
        description: 'See smoke detector',
        builtin: 0,
      },
    ])
    expect(plan.summary).toBe('defined sensor house1:kitchen:smoke (smoke_detector)')
    expect(rowsOf(plan, 'hm_devices')).toEqual([
      {
        id: 'house1:kitchen:smoke',
        room_id: 'house1:kitchen',
        name: 'smoke',
        kind: 'sensor',
        type: 'smoke_detector',
        energy_use_watts: null,
      },
    ])
  })

  it('refuses a device already defined, whatever its kind', () => {
    const world = withRooms()
    commit(world, defineDevice(world.index, world.model, oven))
    expectFailure(
      () => defineDevice(world.index, world.model, { ...oven, kind: 'sensor', energyUseWatts: null }),
      'Conflict',
      'device house1:kitchen:oven is already defined',
    )
  })

  it('refuses when the device resource exists inside another room', () => {
    const world = withRooms()
    commitChanges(world, [
      {
        tbl: 'resources',
        op: 'put',
        row: { id: 'house1:kitchen:oven', description: 'stray', parent_id: 'house1:living_room' },
      },
    ])
    expectFailure(
      () => defineDevice(world.index, world.model, oven),
      'Conflict',
      'resource house1:kitchen:oven already exists inside house1:living_room, not house1:kitchen',
    )
  })

  it('refuses a bad name or type', () => {
    const world = withRooms()
    expectFailure(
      () => defineDevice(world.index, world.model, { ...oven, name: 'big oven' }),
      'Validation',
      /^appliance name "big oven" is not valid/,
    )
    expectFailure(
      () => defineDevice(world.index, world.model, { ...oven, kind: 'sensor', type: 'Smoke' }),
      'Validation',
      'sensor type "Smoke" is not valid: use lower-case letters, digits and _',
    )
  })
})

describe('defineOccupant', () => {
  it('creates the occupant, its user and its voice print when missing', () => {
    const { index, model } = fresh()
    expect(defineOccupant(index, model, { name: 'sam', type: 'adult' }, 'digest-sam')).toEqual({
      changes: [
        { tbl: 'hm_occupants', op: 'put', row: { id: 'sam', type: 'adult', known: 1 } },
        { tbl: 'users', op: 'put', row: { id: 'sam', name: 'sam' } },
        {
          tbl: 'credentials',
          op: 'put',
          row: { user_id: 'sam', kind: 'voice_print', secret_hash: 'digest-sam' },
        },
      ],
      summary: 'defined adult occupant sam (created user sam, voice print --sam--)',
    })
  })

  it('reuses an existing user', () => {
    const world = fresh()
    commitChanges(world, [{ tbl: 'users', op: 'put', row: { id: 'sam', name: 'Sam Smith' } }])
    const plan = defineOccupant(world.index, world.model, { name: 'sam', type: 'child' }, 'digest-sam')
    expect(tablesOf(plan)).toEqual(['hm_occupants', 'credentials'])
    expect(plan.summary).toBe('defined child occupant sam (voice print --sam--)')
    commit(world, plan)
    expect(world.index.users.get('sam')?.name).toBe('Sam Smith')
    expect(world.index.voicePrints.get('digest-sam')).toBe('sam')
    expect(world.model.occupants.get('sam')).toEqual({ id: 'sam', type: 'child', known: 1 })
  })

  it('keeps a voice print the user already has', () => {
    const world = fresh()
    commitChanges(world, [
      { tbl: 'users', op: 'put', row: { id: 'sam', name: 'sam' } },
      { tbl: 'credentials', op: 'put', row: { user_id: 'sam', kind: 'voice_print', secret_hash: 'older' } },
    ])
    expect(defineOccupant(world.index, world.model, { name: 'sam', type: 'adult' }, 'digest-sam')).toEqual({
      changes: [{ tbl: 'hm_occupants', op: 'put', row: { id: 'sam', type: 'adult', known: 1 } }],
      summary: 'defined adult occupant sam',
    })
  })

  it('refuses a voice print that identifies another user', () => {
    const world = fresh()
    commitChanges(world, [
      { tbl: 'users', op: 'put', row: { id: 'bob', name: 'bob' } },
      {
        tbl: 'credentials',
        op: 'put',
        row: { user_id: 'bob', kind: 'voice_print', secret_hash: 'digest-sam' },
      },
    ])
    expectFailure(
      () => defineOccupant(world.index, world.model, { name: 'sam', type: 'adult' }, 'digest-sam'),
      'Conflict',
      'the voice print --sam-- already identifies user bob',
    )
  })

  it('gives an unknown occupant neither a user nor a voice print', () => {
    const { index, model } = fresh()
    const plan = defineOccupant(
      index,
      model,
      { name: 'visitor', type: 'adult', known: false },
      'digest-visitor',
    )
    expect(plan.changes).toEqual([
      { tbl: 'hm_occupants', op: 'put', row: { id: 'visitor', type: 'adult', known: 0 } },
    ])
    expect(plan.summary).toMatch(/^defined unknown adult occupant visitor/)
  })

  it('refuses an unknown type', () => {
    const { index, model } = fresh()
    expectFailure(
      () => defineOccupant(index, model, { name: 'robbie', type: 'robot' as 'adult' }, 'd'),
      'Validation',
      'occupant type must be adult, child or pet, not "robot"',
    )
  })

  it('refuses an occupant already defined, and a bad name', () => {
    const world = fresh()
    commit(world, defineOccupant(world.index, world.model, { name: 'rex', type: 'pet' }, 'digest-rex'))
    expectFailure(
      () => defineOccupant(world.index, world.model, { name: 'rex', type: 'pet' }, 'digest-rex'),
      'Conflict',
      'occupant rex is already defined',
    )
    expectFailure(
      () => defineOccupant(world.index, world.model, { name: 'a b', type: 'pet' }, 'digest'),
      'Validation',
      /^occupant name "a b" is not valid/,
    )
  })
})

describe('addOccupantToHouse', () => {
  /** house1 (with rooms), and adult occupants sam and ann and child jimmy, none yet in a house. */
  function withOccupants(): Projections {
    const world = withRooms()
    for (const [name, type] of [
      ['sam', 'adult'],
      ['ann', 'adult'],
      ['jimmy', 'child'],
    ] as const) {
      commit(world, defineOccupant(world.index, world.model, { name, type }, `digest-${name}`))
    }
    return world
  }

  it('creates the resident role with its default permissions, the resource role, the grant and the residence', () => {
    const world = withOccupants()
    const plan = addOccupantToHouse(world.index, world.model, 'sam', 'house1')
    expect(plan.summary).toBe(
      'added adult sam to house1 as house1_adult_resident (created role adult_resident, created resource role house1_adult_resident)',
    )
    expect(rowsOf(plan, 'permissions').map((r) => (r as { id: string }).id)).toEqual(ADULT_DEFAULTS)
    expect(rowsOf(plan, 'permissions')).toContainEqual({
      id: 'view_energy_use',
      name: 'View energy use',
      description: 'See energy use',
      builtin: 0,
    })
    expect(rowsOf(plan, 'roles')).toEqual([
      {
        id: 'adult_resident',
        name: 'adult resident',
        description: expect.stringMatching(/^Default permissions of an? adult resident$/),
      },
    ])
    expect(rowsOf(plan, 'role_entitlements')).toEqual(
      ADULT_DEFAULTS.map((p) => ({
        role_id: 'adult_resident',
        entitlement_kind: 'permission',
        entitlement_id: p,
      })),
    )
    expect(rowsOf(plan, 'resource_roles')).toEqual([
      { id: 'house1_adult_resident', role_id: 'adult_resident', resource_id: 'house1' },
    ])
    expect(rowsOf(plan, 'user_grants')).toEqual([
      { user_id: 'sam', grant_kind: 'resource_role', target_id: 'house1_adult_resident' },
    ])
    expect(rowsOf(plan, 'hm_house_occupants')).toEqual([{ house_id: 'house1', occupant_id: 'sam' }])
    // Permissions come before the role that refers to them.
    const firstRole = tablesOf(plan).indexOf('roles')
    expect(tablesOf(plan).lastIndexOf('permissions')).toBeLessThan(firstRole)

    commit(world, plan)
    const held = world.index.effective('sam').byResource.get('house1')
    expect([...(held ?? [])].sort()).toEqual([...ADULT_DEFAULTS].sort())
    expect(world.model.houseOccupants.get('house1')?.has('sam')).toBe(true)
  })

  it('creates only the permissions the new role needs that are missing', () => {
    const world = withOccupants()
    commit(
      world,
      defineDevice(world.index, world.model, {
        kind: 'appliance',
        name: 'oven',
        type: 'oven',
        roomId: 'house1:kitchen',
        energyUseWatts: 2400,
      }),
    )
    const plan = addOccupantToHouse(world.index, world.model, 'jimmy', 'house1')
    const created = rowsOf(plan, 'permissions').map((r) => (r as { id: string }).id)
    expect(created).toEqual(CHILD_DEFAULTS.filter((p) => p !== 'view_oven'))
    expect(
      rowsOf(plan, 'role_entitlements').map((r) => (r as { entitlement_id: string }).entitlement_id),
    ).toEqual(CHILD_DEFAULTS)
    commit(world, plan)
    const held = world.index.effective('jimmy').byResource.get('house1') ?? new Set()
    expect(held.has('control_oven')).toBe(false)
    expect(held.has('control_light')).toBe(true)
  })

  it('reuses the role and the resource role for the next occupant of the same type', () => {
    const world = withOccupants()
    commit(world, addOccupantToHouse(world.index, world.model, 'sam', 'house1'))
    const plan = addOccupantToHouse(world.index, world.model, 'ann', 'house1')
    expect(plan).toEqual({
      changes: [
        {
          tbl: 'user_grants',
          op: 'put',
          row: { user_id: 'ann', grant_kind: 'resource_role', target_id: 'house1_adult_resident' },
        },
        { tbl: 'hm_house_occupants', op: 'put', row: { house_id: 'house1', occupant_id: 'ann' } },
      ],
      summary: 'added adult ann to house1 as house1_adult_resident',
    })
  })

  it('uses an existing resident role as it is, adding no permissions to it', () => {
    const world = withOccupants()
    commitChanges(world, [
      { tbl: 'roles', op: 'put', row: { id: 'adult_resident', name: 'Adult', description: 'custom' } },
    ])
    const plan = addOccupantToHouse(world.index, world.model, 'sam', 'house1')
    expect(tablesOf(plan)).toEqual(['resource_roles', 'user_grants', 'hm_house_occupants'])
    expect(plan.summary).toBe(
      'added adult sam to house1 as house1_adult_resident (created resource role house1_adult_resident)',
    )
  })

  it('refuses a resource role of that id bound differently', () => {
    const world = withOccupants()
    commitChanges(world, [
      { tbl: 'roles', op: 'put', row: { id: 'child_resident', name: 'c', description: 'c' } },
      {
        tbl: 'resource_roles',
        op: 'put',
        row: { id: 'house1_adult_resident', role_id: 'child_resident', resource_id: 'house1' },
      },
    ])
    expectFailure(
      () => addOccupantToHouse(world.index, world.model, 'sam', 'house1'),
      'Conflict',
      'resource role house1_adult_resident exists but binds child_resident to house1, not adult_resident to house1',
    )
  })

  it('refuses a resource role of that id on another resource', () => {
    const world = withOccupants()
    commit(world, addOccupantToHouse(world.index, world.model, 'sam', 'house1'))
    commitChanges(world, [
      {
        tbl: 'resource_roles',
        op: 'put',
        row: { id: 'house1_adult_resident', role_id: 'adult_resident', resource_id: 'house1:kitchen' },
      },
    ])
    expectFailure(
      () => addOccupantToHouse(world.index, world.model, 'ann', 'house1'),
      'Conflict',
      'resource role house1_adult_resident exists but binds adult_resident to house1:kitchen, not adult_resident to house1',
    )
  })

  it('is idempotent', () => {
    const world = withOccupants()
    commit(world, addOccupantToHouse(world.index, world.model, 'sam', 'house1'))
    expect(addOccupantToHouse(world.index, world.model, 'sam', 'house1')).toEqual({
      changes: [],
      summary: 'sam already lives in house1',
    })
  })

  it('completes a half-done residence', () => {
    const world = withOccupants()
    commit(world, addOccupantToHouse(world.index, world.model, 'sam', 'house1'))
    commitChanges(world, [
      { tbl: 'hm_house_occupants', op: 'delete', row: { house_id: 'house1', occupant_id: 'sam' } },
    ])
    expect(addOccupantToHouse(world.index, world.model, 'sam', 'house1').changes).toEqual([
      { tbl: 'hm_house_occupants', op: 'put', row: { house_id: 'house1', occupant_id: 'sam' } },
    ])
  })

  it('gives a pet a role with no permissions', () => {
    const world = withRooms()
    commit(world, defineOccupant(world.index, world.model, { name: 'rex', type: 'pet' }, 'digest-rex'))
    const plan = addOccupantToHouse(world.index, world.model, 'rex', 'house1')
    expect(tablesOf(plan)).toEqual(['roles', 'resource_roles', 'user_grants', 'hm_house_occupants'])
    commit(world, plan)
    expect(world.index.effective('rex').byResource.get('house1')?.size).toBe(0)
  })

  it('needs the occupant, the house and the user', () => {
    const world = withOccupants()
    expectFailure(
      () => addOccupantToHouse(world.index, world.model, 'ghost', 'house1'),
      'NotFound',
      'occupant ghost is not defined',
    )
    expectFailure(
      () => addOccupantToHouse(world.index, world.model, 'sam', 'house9'),
      'NotFound',
      'house house9 is not defined',
    )
    // A known occupant whose user has gone.
    commitChanges(world, [{ tbl: 'hm_occupants', op: 'put', row: { id: 'stray', type: 'adult', known: 1 } }])
    expectFailure(
      () => addOccupantToHouse(world.index, world.model, 'stray', 'house1'),
      'NotFound',
      /^occupant stray has no user/,
    )
  })

  it('gives an unknown occupant a residence and no entitlements', () => {
    const world = withRooms()
    commit(
      world,
      defineOccupant(
        world.index,
        world.model,
        { name: 'visitor', type: 'adult', known: false },
        'digest-visitor',
      ),
    )
    const plan = addOccupantToHouse(world.index, world.model, 'visitor', 'house1')
    expect(plan.changes).toEqual([
      { tbl: 'hm_house_occupants', op: 'put', row: { house_id: 'house1', occupant_id: 'visitor' } },
    ])
    expect(plan.summary).toMatch(/^added unknown adult visitor to house1/)
    commit(world, plan)
    expect(world.index.roles.size).toBe(0)
    expect(world.index.resourceRoles.size).toBe(0)
    expect(addOccupantToHouse(world.index, world.model, 'visitor', 'house1')).toEqual({
      changes: [],
      summary: 'visitor already lives in house1',
    })
  })
})

describe('setDeviceStatus', () => {
  const device: DeviceRow = {
    id: 'house1:kitchen:oven',
    room_id: 'house1:kitchen',
    name: 'oven',
    kind: 'appliance',
    type: 'oven',
    energy_use_watts: 2400,
  }

  it('puts the status value', () => {
    expect(setDeviceStatus(device, 'power', 'on', AT, 'sam')).toEqual({
      changes: [
        {
          tbl: 'hm_device_status',
          op: 'put',
          row: { device_id: 'house1:kitchen:oven', status: 'power', value: 'on', updated_at: AT },
        },
      ],
      summary: 'sam set house1:kitchen:oven power to on',
    })
  })

  it.each(['Power', '1power', '', 'power level', 'p'.repeat(51)])('refuses the status name %j', (status) => {
    expectFailure(
      () => setDeviceStatus(device, status, 'on', AT, 'sam'),
      'Validation',
      `status name "${status}" is not valid: use lower-case letters, digits, _ and -`,
    )
  })

  it('accepts status names with digits, _ and -, up to 50 characters', () => {
    expect(setDeviceStatus(device, 'fan-speed_2', '3', AT, 'sam').changes).toHaveLength(1)
    expect(setDeviceStatus(device, 'p'.repeat(50), '3', AT, 'sam').changes).toHaveLength(1)
  })

  it('needs a value of 1 to 200 characters', () => {
    expectFailure(
      () => setDeviceStatus(device, 'power', '', AT, 'sam'),
      'Validation',
      'the value of power must be 1 to 200 characters',
    )
    expectFailure(
      () => setDeviceStatus(device, 'label', 'x'.repeat(201), AT, 'sam'),
      'Validation',
      'the value of label must be 1 to 200 characters',
    )
    expect(setDeviceStatus(device, 'label', 'x'.repeat(200), AT, 'sam').changes).toHaveLength(1)
  })
})
