import type { VoicePrintContext } from '../entitlements/sessions.js'
import { CustodianError, conflict, notFound } from '../errors.js'
import type { Node } from '../kernel/node.js'
import type { DeviceRow } from '../store/schema.js'
import { parseDeviceAddress, requireDevice } from './addresses.js'
import type { HouseMate } from './house-mate.js'
import type { HouseModel } from './house-model.js'
import { parseUtterance } from './utterance.js'

export const CONTROLLER_USER = 'housemate-controller'

export interface VoiceOutcome {
  user: string
  device: string
  status: string
  value: string
  message: string
  revision: number
}

/**
 * The device a spoken command is about: one of that type in the speaker's room, else the only one in the
 * house. Pure.
 */
export function resolveTarget(
  model: HouseModel,
  listenerRoomId: string,
  houseId: string,
  type: string,
): DeviceRow {
  const inRoom = model.devicesIn(listenerRoomId).filter((d) => d.type === type)
  if (inRoom.length >= 1) return inRoom[0] as DeviceRow
  const inHouse = [...model.devices.values()].filter((d) => d.type === type && model.houseOf(d) === houseId)
  if (inHouse.length === 1) return inHouse[0] as DeviceRow
  if (inHouse.length === 0)
    throw notFound(`there is no ${type} in ${listenerRoomId} or elsewhere in ${houseId}`)
  throw conflict(
    `there is no ${type} in ${listenerRoomId}, and ${houseId} has several: ${inHouse.map((d) => d.id).join(', ')}; speak in the room`,
  )
}

/**
 * The House Mate controller. A voice command logs in by the speaker's voice print and acts with that
 * occupant's own token (living minutes), so the occupant's entitlements decide. The voice print is relayed
 * by this in-process controller, or (over HTTP) by the controller whose own token the request carries, as
 * `context.controller` names it. Automation (a sensor that reports smoke or
 * motion) acts with the controller's own token, of a service account holding `admin`.
 */
export class Controller {
  readonly #custodian: Node
  readonly #house: HouseMate
  #token: string | undefined

  constructor(custodian: Node, house: HouseMate) {
    this.#custodian = custodian
    this.#house = house
    house.onStatusChange((device, status, value, by) => this.#react(device, status, value, by))
  }

  async voiceCommand(
    listener: string,
    voicePrint: string,
    utterance: string,
    context: VoicePrintContext = {},
  ): Promise<VoiceOutcome> {
    const address = parseDeviceAddress(listener)
    requireDevice(this.#custodian.model, address)
    const parsed = parseUtterance(utterance)
    if (!parsed.ok) throw new CustodianError('Validation', `not understood: ${parsed.reason}`)
    const session = await this.#custodian.loginVoicePrint(voicePrint, context)
    const { intent } = parsed
    const target = resolveTarget(this.#custodian.model, address.roomId, address.house, intent.deviceType)
    const result = await this.#house.setStatus(
      session.token,
      target.kind,
      target.id,
      intent.status,
      intent.value,
    )
    return {
      user: session.userId,
      device: target.id,
      status: intent.status,
      value: intent.value,
      message: `${session.userId}: ${intent.phrase} -> ${target.id} ${intent.status} = ${intent.value}`,
      revision: result.revision,
    }
  }

  /** The controller's own token, renewed when it has lapsed. */
  async #ownToken(): Promise<string> {
    if (!this.#token || !this.#custodian.whoHolds(this.#token).ok) {
      this.#token = (await this.#custodian.serviceSession(CONTROLLER_USER, 'House Mate controller')).token
    }
    return this.#token
  }

  /** Sensor-triggered rules: smoke turns the house's ovens off; motion turns the room's lights on. */
  async #react(device: DeviceRow, status: string, value: string, by: string): Promise<void> {
    if (by === CONTROLLER_USER || device.kind !== 'sensor') return
    const model = this.#custodian.model
    const house = model.houseOf(device)
    let targets: { device: DeviceRow; status: string; value: string }[] = []
    if (status === 'smoke' && value === 'detected') {
      targets = [...model.devices.values()]
        .filter(
          (d) => d.type === 'oven' && model.houseOf(d) === house && model.status(d.id, 'power') !== 'off',
        )
        .map((d) => ({ device: d, status: 'power', value: 'off' }))
    } else if (status === 'motion' && value === 'detected') {
      targets = model
        .devicesIn(device.room_id)
        .filter((d) => d.type === 'light' && model.status(d.id, 'power') !== 'on')
        .map((d) => ({ device: d, status: 'power', value: 'on' }))
    }
    for (const t of targets) {
      await this.#house.setStatus(await this.#ownToken(), t.device.kind, t.device.id, t.status, t.value)
    }
  }
}
