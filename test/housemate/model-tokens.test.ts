import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Custodian } from '../../src/custodian.js'
import { InvalidAccessTokenError } from '../../src/errors.js'
import { Controller } from '../../src/housemate/controller.js'
import { HouseMate } from '../../src/housemate/house-mate.js'
import { custodianOn, storeBackends } from '../support/temp-store.js'

describe.each(storeBackends)('every House Mate model method on $name', ({ make }) => {
  let close: () => Promise<void>
  let custodian: Custodian
  let house: HouseMate
  let now = Date.parse('2026-11-23T10:00:00Z')
  const tokens: Record<string, string | null | undefined> = { missing: undefined, null: null, empty: '' }

  beforeAll(async () => {
    ;({ custodian, close } = await custodianOn(make, { clock: () => now }))
    house = new HouseMate(custodian)
    new Controller(custodian, house)
    await custodian.createUser(undefined, { id: 'root', name: 'Root' })
    await custodian.addUserCredential(undefined, 'root', 'password', 'root password')
    await custodian.grantToUser(undefined, 'root', 'admin')
    const admin = (await custodian.login('root', 'root password')).token
    await house.defineHouse(admin, { id: 'house1' })
    await house.defineRoom(admin, { house: 'house1', room: 'kitchen', floor: 1, type: 'kitchen' })
    await house.defineDevice(admin, {
      kind: 'appliance',
      name: 'oven',
      type: 'oven',
      room: 'house1:kitchen',
      energyUseWatts: 2000,
    })
    await house.defineOccupant(admin, { name: 'sam', type: 'adult' })
    await house.addOccupantToHouse(admin, 'sam', 'house1')
    const loggedOut = (await custodian.login('root', 'root password')).token
    await custodian.logout(loggedOut)
    tokens['logged out'] = loggedOut
    tokens.expired = (await custodian.login('root', 'root password')).token
    now += 25 * 3_600_000 // past the 24-hour lifetime
  })
  afterAll(async () => {
    await close()
  })

  const methods: [string, (token: string | null | undefined) => unknown][] = [
    ['defineHouse', (t) => house.defineHouse(t, { id: 'house2' })],
    ['defineRoom', (t) => house.defineRoom(t, { house: 'house1', room: 'hall', floor: 0, type: 'hall' })],
    ['defineOccupant', (t) => house.defineOccupant(t, { name: 'kim', type: 'child' })],
    ['addOccupantToHouse', (t) => house.addOccupantToHouse(t, 'sam', 'house1')],
    [
      'defineDevice',
      (t) => house.defineDevice(t, { kind: 'sensor', name: 'ava', type: 'ava', room: 'house1:kitchen' }),
    ],
    ['setStatus', (t) => house.setStatus(t, 'appliance', 'house1:kitchen:oven', 'power', 'on')],
    ['showDevice', (t) => house.showDevice(t, 'appliance', 'house1:kitchen:oven')],
    ['showConfiguration', (t) => house.showConfiguration(t, 'house1')],
    ['showEnergyUse', (t) => house.showEnergyUse(t)],
  ]

  it.each(
    methods,
  )('%s refuses a missing, null, empty, logged-out or expired token and changes nothing', async (_name, call) => {
    const before = custodian.revision
    for (const [kind, token] of Object.entries(tokens)) {
      const outcome = await Promise.resolve()
        .then(() => call(token))
        .then(
          () => 'accepted',
          (error: unknown) => error,
        )
      expect(outcome, `${kind} token`).toBeInstanceOf(InvalidAccessTokenError)
      const expected = {
        missing: /no access token was given/,
        null: /no access token was given/,
        empty: /no access token was given \(it is empty\)/,
        'logged out': /was logged out at/,
        expired: /expired at/,
      }[kind]
      expect((outcome as Error).message, `${kind} token`).toMatch(expected as RegExp)
    }
    await custodian.flush()
    expect(custodian.revision).toBe(before)
    expect(custodian.model.houses.size).toBe(1)
    expect(custodian.model.status('house1:kitchen:oven', 'power')).toBeUndefined()
  })
})
