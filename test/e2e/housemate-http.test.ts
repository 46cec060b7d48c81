import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerController } from '../support/housemate-controller.js'
import { call, type RunningServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/** House Mate over HTTP against the real server: configuration, voice commands, reads, refusals. */
describe('House Mate over HTTP', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  /** Voice prints are accepted only from a House Mate controller, with its own token. */
  let controller: string
  const encoded = (address: string) => encodeURIComponent(address)

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    const steps: [string, string, unknown?][] = [
      ['POST', '/v1/houses', { id: 'house1', address: '1 Main Street' }],
      ['POST', '/v1/houses/house1/rooms', { name: 'kitchen', floor: 1, type: 'kitchen', windows: 2 }],
      [
        'POST',
        '/v1/houses/house1/rooms/kitchen/devices',
        { name: 'oven', kind: 'appliance', type: 'oven', energy_use_watts: 2400 },
      ],
      [
        'POST',
        '/v1/houses/house1/rooms/kitchen/devices',
        { name: 'window', kind: 'appliance', type: 'window' },
      ],
      ['POST', '/v1/houses/house1/rooms/kitchen/devices', { name: 'ava', kind: 'sensor', type: 'ava' }],
      ['POST', '/v1/occupants', { name: 'sam', type: 'adult' }],
      ['POST', '/v1/occupants', { name: 'jimmy', type: 'child' }],
      ['PUT', '/v1/houses/house1/occupants/sam'],
      ['PUT', '/v1/houses/house1/occupants/jimmy'],
    ]
    for (const [method, path, body] of steps) {
      const response = await call(server.url, method, path, { token: admin, body })
      expect([200, 201], `${method} ${path}: ${JSON.stringify(response.body)}`).toContain(response.status)
    }
    controller = await registerController(server.url, admin)
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  const voice = (voice_print: string, utterance: string) =>
    call(server.url, 'POST', '/v1/voice-commands', {
      token: controller,
      body: { listener: 'house1:kitchen:ava', voice_print, utterance },
    })

  it("acts on a voice command with the speaker's own entitlements", async () => {
    const sam = await voice('--sam--', 'turn the oven on')
    expect(sam).toMatchObject({
      status: 200,
      body: { user: 'sam', device: 'house1:kitchen:oven', status: 'power', value: 'on' },
    })

    const jimmy = await voice('--jimmy--', 'oven off')
    expect(jimmy.status).toBe(403)
    expect(jimmy.body).toMatchObject({ code: 'AccessDenied' })
    expect(jimmy.body.detail).toMatch(
      /^control_oven on house1:kitchen:oven refused: jimmy holds .* on house1/,
    )

    const oven = await call(server.url, 'GET', `/v1/devices/${encoded('house1:kitchen:oven')}`, {
      token: admin,
    })
    expect(oven.body).toMatchObject({ device: 'house1:kitchen:oven', status: { power: 'on' } })

    expect((await voice('--jimmy--', 'open the window')).body).toMatchObject({
      device: 'house1:kitchen:window',
      value: 'open',
    })
    expect(await voice('--nobody--', 'lights on')).toMatchObject({
      status: 401,
      body: { code: 'Authentication' },
    })
    expect(await voice('--sam--', 'make coffee')).toMatchObject({ status: 400, body: { code: 'Validation' } })
  })

  it('lets a resident read what the default resident role allows, with their own token', async () => {
    const jimmy = (
      await call(server.url, 'POST', '/v1/sessions', {
        token: controller,
        body: { voice_print: '--jimmy--' },
      })
    ).body.token as string
    const window = await call(
      server.url,
      'GET',
      `/v1/devices/${encoded('house1:kitchen:window')}?status=state`,
      { token: jimmy },
    )
    expect(window).toMatchObject({ status: 200, body: { status: { state: 'open' } } })
    const configuration = await call(server.url, 'GET', '/v1/configuration', { token: jimmy })
    expect((configuration.body.items as { id: string }[]).map((h) => h.id)).toEqual(['house1'])
    const energy = await call(server.url, 'GET', '/v1/energy-use?target=house1', { token: jimmy })
    expect(energy.status).toBe(403) // child residents may not see energy use by default
    const sam = (
      await call(server.url, 'POST', '/v1/sessions', { token: controller, body: { voice_print: '--sam--' } })
    ).body.token as string
    expect(
      (await call(server.url, 'GET', '/v1/energy-use?target=house1', { token: sam })).body,
    ).toMatchObject({ watts: 2400 })
    const set = await call(
      server.url,
      'PUT',
      `/v1/devices/${encoded('house1:kitchen:oven')}/status/temperature`,
      { token: sam, body: { value: '350' } },
    )
    expect(set.status).toBe(200)
  })

  it('refuses model calls without a token before reading them', async () => {
    const none = await call(server.url, 'GET', `/v1/devices/${encoded('house1:kitchen:oven')}`)
    expect(none).toMatchObject({ status: 401, body: { code: 'InvalidAccessToken' } })
    const unknown = await call(server.url, 'GET', `/v1/devices/${encoded('house1:kitchen:fridge')}`, {
      token: admin,
    })
    expect(unknown).toMatchObject({
      status: 404,
      body: { detail: 'device house1:kitchen:fridge is not defined' },
    })
  })

  it('documents the model and the voice command in the OpenAPI document', async () => {
    const doc = await call(server.url, 'GET', '/openapi.json')
    expect(Object.keys(doc.body.paths as object)).toEqual(
      expect.arrayContaining([
        '/v1/houses',
        '/v1/houses/{house}/rooms',
        '/v1/houses/{house}/rooms/{room}/devices',
        '/v1/occupants',
        '/v1/houses/{house}/occupants/{name}',
        '/v1/devices/{address}',
        '/v1/devices/{address}/status/{status}',
        '/v1/configuration',
        '/v1/energy-use',
        '/v1/voice-commands',
      ]),
    )
  })
})
