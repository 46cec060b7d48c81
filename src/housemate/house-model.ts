import type { SnapshotLoader } from '../kernel/projections.js'
import type {
  DeviceRow,
  DeviceStatusRow,
  HouseRow,
  OccupantRow,
  ReplicatedRows,
  RoomRow,
} from '../store/schema.js'
import type { Change } from '../store/store.js'

type Tbl =
  | 'hm_houses'
  | 'hm_rooms'
  | 'hm_occupants'
  | 'hm_house_occupants'
  | 'hm_devices'
  | 'hm_device_status'
const OWN_TABLES: ReadonlySet<string> = new Set<Tbl>([
  'hm_houses',
  'hm_rooms',
  'hm_occupants',
  'hm_house_occupants',
  'hm_devices',
  'hm_device_status',
])

/**
 * The in-memory projection of the House Mate model, fed by the same change log as the entitlement Index.
 * Like the Index, it changes only through `apply`, synchronously between reads.
 */
export class HouseModel {
  revision = 0
  readonly houses = new Map<string, HouseRow>()
  readonly rooms = new Map<string, RoomRow>()
  readonly occupants = new Map<string, OccupantRow>()
  /** house id -> occupant ids */
  readonly houseOccupants = new Map<string, Set<string>>()
  readonly devices = new Map<string, DeviceRow>()
  /** device id -> status name -> row */
  readonly statuses = new Map<string, Map<string, DeviceStatusRow>>()

  /** An empty model filling from a streamed snapshot (kernel/projections.ts SnapshotLoader). */
  static loader(): SnapshotLoader<HouseModel> {
    const model = new HouseModel()
    return {
      rows: (tbl) =>
        OWN_TABLES.has(tbl) ? (row) => model.#put(tbl as Tbl, row as ReplicatedRows[Tbl]) : undefined,
      finish(revision) {
        model.revision = revision
        return model
      },
    }
  }

  apply(changes: readonly Change[]): void {
    for (const change of changes) {
      if (change.revision <= this.revision) continue
      this.revision = change.revision
      if (!OWN_TABLES.has(change.tbl)) continue
      if (change.op === 'put') this.#put(change.tbl as Tbl, change.row as ReplicatedRows[Tbl])
      else this.#delete(change.tbl as Tbl, change.row as Record<string, string>)
    }
  }

  #put(tbl: Tbl, row: ReplicatedRows[Tbl]): void {
    switch (tbl) {
      case 'hm_houses':
        this.houses.set((row as HouseRow).id, row as HouseRow)
        break
      case 'hm_rooms':
        this.rooms.set((row as RoomRow).id, row as RoomRow)
        break
      case 'hm_occupants':
        this.occupants.set((row as OccupantRow).id, row as OccupantRow)
        break
      case 'hm_house_occupants': {
        const { house_id, occupant_id } = row as ReplicatedRows['hm_house_occupants']
        let set = this.houseOccupants.get(house_id)
        if (!set) {
          set = new Set()
          this.houseOccupants.set(house_id, set)
        }
        set.add(occupant_id)
        break
      }
      case 'hm_devices':
        this.devices.set((row as DeviceRow).id, row as DeviceRow)
        break
      case 'hm_device_status': {
        const status = row as DeviceStatusRow
        let map = this.statuses.get(status.device_id)
        if (!map) {
          map = new Map()
          this.statuses.set(status.device_id, map)
        }
        map.set(status.status, status)
        break
      }
    }
  }

  #delete(tbl: Tbl, key: Record<string, string>): void {
    switch (tbl) {
      case 'hm_house_occupants':
        this.houseOccupants.get(key.house_id as string)?.delete(key.occupant_id as string)
        break
      case 'hm_device_status':
        this.statuses.get(key.device_id as string)?.delete(key.status as string)
        break
      default:
        ;({
          hm_houses: this.houses,
          hm_rooms: this.rooms,
          hm_occupants: this.occupants,
          hm_devices: this.devices,
        })[tbl].delete(key.id as string)
    }
  }

  roomsOf(houseId: string): RoomRow[] {
    return [...this.rooms.values()].filter((r) => r.house_id === houseId)
  }

  devicesIn(roomId: string): DeviceRow[] {
    return [...this.devices.values()].filter((d) => d.room_id === roomId)
  }

  houseOf(device: DeviceRow): string {
    return (this.rooms.get(device.room_id) as RoomRow).house_id
  }

  status(deviceId: string, status: string): string | undefined {
    return this.statuses.get(deviceId)?.get(status)?.value
  }
}

// This projection in the kernel's Index, as `model` (custodian.ts registers the class).
declare module '../kernel/projections.js' {
  interface Index {
    model: HouseModel
  }
}
