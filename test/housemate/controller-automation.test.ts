import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { CONTROLLER_USER, Controller } from '../../src/housemate/controller.js'
import { HouseMate } from '../../src/housemate/house-mate.js'
import { tempSqlite } from '../support/temp-store.js'

describe('the House Mate controller, in process', () => {
  const temp = tempSqlite()
  let custodian: Custodian
  let house: HouseMate
  let controller: Controller

  beforeAll(async () => {
    custodian = await Custodian.open({ db: temp.target, follow: false, config: { logLevel: 'silent' } })
    house = new HouseMate(custodian)
    controller = new Controller(custodian, house)
    // Set up in bootstrap mode, as a fresh install's script would.
    await house.defineHouse(undefined, { id: 'home' })
    await house.defineRoom(undefined, { house: 'home', room: 'hall', floor: 0, type: 'hall' })
    await house.defineRoom(undefined, { house: 'home', room: 'den', floor: 1, type: 'den' })
    await house.defineDevice(undefined, {
      kind: 'sensor',
      name: 'motion',
      type: 'motion_sensor',
      room: 'home:hall',
    })
    await house.defineDevice(undefined, { kind: 'sensor', name: 'ava', type: 'ava', room: 'home:den' })
    await house.defineDevice(undefined, { kind: 'appliance', name: 'lamp', type: 'light', room: 'home:hall' })
    await house.defineDevice(undefined, { kind: 'appliance', name: 'door', type: 'door', room: 'home:hall' })
    await house.defineOccupant(undefined, { name: 'ann', type: 'adult' })
    await house.addOccupantToHouse(undefined, 'ann', 'home')
  })
  afterAll(async () => {
    await custodian.close()
    temp.remove()
  })

  it('turns the lights of a room on when its motion sensor reports motion, with its own token', async () => {
    const ann = (await custodian.loginVoicePrint('--ann--')).token
    // ann's default adult role does not control motion sensors: the sensor report comes from an admin.
    const root = await custodian.serviceSession('sensor-gateway', 'Sensor gateway')
    await house.setStatus(root.token, 'sensor', 'home:hall:motion', 'motion', 'detected')
    expect(custodian.model.status('home:hall:lamp', 'power')).toBe('on')
    await custodian.flush()
    const audit = await custodian.store.readAudit(0, 1000)
    expect(audit).toContainEqual(
      expect.objectContaining({
        actor: CONTROLLER_USER,
        action: 'appliance.set_status',
        resource: 'home:hall:lamp',
        outcome: 'ok',
      }),
    )
    // The service accounts hold admin but have no credential: the store is still in bootstrap mode.
    expect(custodian.index.isBootstrap()).toBe(true)
    expect(house.showDevice(ann, 'appliance', 'home:hall:lamp').status).toEqual({ power: 'on' })
  })

  it("falls back to the only device of a type in the house when the listener's room has none", async () => {
    const outcome = await controller.voiceCommand('home:den:ava', '--ann--', 'lock the door')
    expect(outcome).toMatchObject({ user: 'ann', device: 'home:hall:door', status: 'state', value: 'locked' })
    await expect(controller.voiceCommand('home:den:ava', '--ann--', 'oven on')).rejects.toThrow(
      'there is no oven in home:den or elsewhere in home',
    )
  })
})
