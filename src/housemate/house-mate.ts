import { BOOTSTRAP } from '../entitlements/access.js'
import { digestVoicePrint } from '../entitlements/credentials.js'
import { InvalidAccessTokenError, invalid, notFound } from '../errors.js'
import type { Node } from '../kernel/node.js'
import type { ChangeResult } from '../kernel/write-plan.js'
import type { DeviceKind, DeviceRow, OccupantType } from '../store/schema.js'
import {
  parseDeviceAddress,
  parseRoomAddress,
  requireDevice,
  requireHouse,
  requireRoom,
} from './addresses.js'
import * as plans from './changes.js'
import { devicePermissions, VIEW_CONFIGURATION, VIEW_ENERGY_USE } from './rules.js'
import { configurationOf, describeConfiguration, energyUseOf, type Target } from './views.js'

export type StatusListener = (device: DeviceRow, status: string, value: string, by: string) => Promise<void>

/**
 * The House Mate model service. Every method takes the caller's access token and asks the entitlement
 * engine before acting: configuring houses is administrative (an `admin` token, or bootstrap mode while
 * setting up); reading a device needs `view_<type>` or `control_<type>` on it, changing it `control_<type>`;
 * `show configuration` needs `view_configuration`, `show energy-use` needs `view_energy_use`. In bootstrap
 * mode a caller without a token acts as an administrator would, for every method.
 */
export class HouseMate {
  readonly #custodian: Node
  readonly #listeners: StatusListener[] = []

  constructor(custodian: Node) {
    this.#custodian = custodian
  }

  get model() {
    return this.#custodian.model
  }

  /** Called after every committed status change (the controller's automation listens here). */
  onStatusChange(listener: StatusListener): void {
    this.#listeners.push(listener)
  }

  /** No token while the store is being set up (bootstrap mode): the caller acts as an administrator would. */
  #bootstrapping(token: string | null | undefined): token is null | undefined | '' {
    return (token === null || token === undefined || token === '') && this.#custodian.index.isBootstrap()
  }

  /** Configuration needs a token, except while the store is being set up (bootstrap mode). */
  #adminToken(token: string | null | undefined, action: string, target: string): string | undefined {
    if (this.#bootstrapping(token)) return undefined
    if (token === null || token === undefined || token === '') {
      const reason = `no access token was given${token === '' ? ' (it is empty)' : ''}`
      this.#custodian.audit({
        actor: 'anonymous',
        action,
        resource: target,
        outcome: 'InvalidAccessToken',
        reason,
      })
      throw new InvalidAccessTokenError(`${action} on ${target} refused: ${reason}`)
    }
    return token
  }

  defineHouse(
    token: string | null | undefined,
    input: { id: string; address?: string },
  ): Promise<ChangeResult> {
    const t = this.#adminToken(token, 'house.define', input.id)
    return this.#custodian.change(t, 'house.define', input.id, ({ index, model }) =>
      plans.defineHouse(index, model, { id: input.id, address: input.address ?? '' }),
    )
  }

  defineRoom(
    token: string | null | undefined,
    input: { house: string; room: string; floor: number; type: string; windows?: number },
  ): Promise<ChangeResult> {
    const target = `${input.house}:${input.room}`
    const t = this.#adminToken(token, 'room.define', target)
    return this.#custodian.change(t, 'room.define', target, ({ index, model }) =>
      plans.defineRoom(index, model, { ...input, windows: input.windows ?? 0 }),
    )
  }

  defineOccupant(
    token: string | null | undefined,
    input: { name: string; type: OccupantType; known?: boolean },
  ): Promise<ChangeResult> {
    const t = this.#adminToken(token, 'occupant.define', input.name)
    const digest = digestVoicePrint(`--${input.name}--`)
    return this.#custodian.change(t, 'occupant.define', input.name, ({ index, model }) =>
      plans.defineOccupant(index, model, input, digest),
    )
  }

  addOccupantToHouse(token: string | null | undefined, name: string, house: string): Promise<ChangeResult> {
    const t = this.#adminToken(token, 'occupant.add', `${house}/${name}`)
    return this.#custodian.change(t, 'occupant.add', `${house}/${name}`, ({ index, model }) =>
      plans.addOccupantToHouse(index, model, name, house),
    )
  }

  defineDevice(
    token: string | null | undefined,
    input: { kind: DeviceKind; name: string; type: string; room: string; energyUseWatts?: number | null },
  ): Promise<ChangeResult> {
    const room = parseRoomAddress(input.room)
    const target = `${room.id}:${input.name}`
    const t = this.#adminToken(token, `${input.kind}.define`, target)
    return this.#custodian.change(t, `${input.kind}.define`, target, ({ index, model }) =>
      plans.defineDevice(index, model, {
        kind: input.kind,
        name: input.name,
        type: input.type,
        roomId: room.id,
        energyUseWatts: input.energyUseWatts ?? null,
      }),
    )
  }

  /** Sets a status value of a sensor or an appliance: needs `control_<type>` on the device. */
  async setStatus(
    token: string | null | undefined,
    kind: DeviceKind | undefined,
    address: string,
    status: string,
    value: string,
  ): Promise<ChangeResult> {
    const action = `${kind ?? 'device'}.set_status`
    const bootstrapping = this.#bootstrapping(token)
    if (!bootstrapping) this.#custodian.authenticate(token, action, address)
    const device = requireDevice(this.model, parseDeviceAddress(address), kind)
    let by = ''
    const plan = (_world: unknown, now: string, userId: string) => {
      by = userId
      return plans.setDeviceStatus(device, status, value, now, userId)
    }
    const result = bootstrapping
      ? await this.#custodian.change(undefined, action, device.id, plan)
      : await this.#custodian.changeAs(
          token,
          devicePermissions(device, 'set_status'),
          device.id,
          action,
          plan,
        )
    for (const listener of this.#listeners) await listener(device, status, value, by)
    return result
  }

  /** A device's status values (or one of them): needs `view_<type>` or `control_<type>` on the device. */
  showDevice(
    token: string | null | undefined,
    kind: DeviceKind | undefined,
    address: string,
    status?: string,
  ) {
    const bootstrapping = this.#bootstrapping(token)
    if (!bootstrapping) this.#custodian.authenticate(token, `${kind ?? 'device'}.show`, address)
    const device = requireDevice(this.model, parseDeviceAddress(address), kind)
    const decision = bootstrapping
      ? { userId: BOOTSTRAP }
      : this.#custodian.assertAccessAny(token, devicePermissions(device, 'show'), device.id)
    const values = Object.fromEntries(
      [...(this.model.statuses.get(device.id)?.values() ?? [])].map((s) => [s.status, s.value]),
    )
    if (status !== undefined) {
      const value = values[status]
      if (value === undefined)
        throw notFound(
          `${device.id} has no status ${status} (it has: ${Object.keys(values).join(', ') || 'none yet'})`,
        )
      return { device: device.id, user: decision.userId, status: { [status]: value } }
    }
    return { device: device.id, user: decision.userId, status: values }
  }

  /** `house`, `house:room` or `house:room:device`, which must be defined. */
  #target(text: string): Target {
    const parts = text.split(':')
    if (parts.some((p) => p === '') || parts.length > 3)
      throw invalid(`"${text}" is not a house, room or device address`)
    const [house = ''] = parts
    requireHouse(this.model, house)
    if (parts.length === 1) return { kind: 'house', id: text }
    if (parts.length === 2) {
      requireRoom(this.model, text)
      return { kind: 'room', id: text }
    }
    requireDevice(this.model, parseDeviceAddress(text))
    return { kind: 'device', id: text }
  }

  /** The targets a caller asked about, or every house when none, kept to those it may see. */
  #visible(
    token: string | null | undefined,
    target: string | undefined,
    permission: string,
    action: string,
  ): Target[] {
    const bootstrapping = this.#bootstrapping(token)
    if (!bootstrapping) this.#custodian.authenticate(token, action, target ?? '*')
    if (target !== undefined) {
      const resolved = this.#target(target)
      if (!bootstrapping) this.#custodian.assertAccess(token, permission, resolved.id)
      return [resolved]
    }
    return [...this.model.houses.keys()]
      .sort()
      .filter((id) => bootstrapping || this.#custodian.checkAccess(token as string, permission, id).allowed)
      .map((id) => ({ kind: 'house', id }))
  }

  showConfiguration(token: string | null | undefined, target?: string) {
    const targets = this.#visible(token, target, VIEW_CONFIGURATION, 'configuration.show')
    return {
      items: targets.map((t) => configurationOf(this.model, t)),
      text: targets.map((t) => describeConfiguration(this.model, t)).join(' | ') || 'no house you may see',
    }
  }

  showEnergyUse(token: string | null | undefined, target?: string) {
    const targets = this.#visible(token, target, VIEW_ENERGY_USE, 'energy_use.show')
    const items = targets.map((t) => energyUseOf(this.model, t))
    return { items, watts: items.reduce((sum, i) => sum + i.watts, 0) }
  }
}
