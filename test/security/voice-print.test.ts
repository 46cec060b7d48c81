import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerController } from '../support/housemate-controller.js'
import { call, type RunningServer, startServer, startWithAdmin } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/** Voice prints are guessable (`--sam--`): over HTTP only a House Mate controller may present one. */
describe('voice-print logins over HTTP', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let controller: string

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target, { CUSTODIAN_LOGIN_MAX_FAILURES_ADDRESS: '5' }))
    for (const [method, path, body] of [
      ['POST', '/v1/houses', { id: 'house1', address: '1 Main Street' }],
      ['POST', '/v1/houses/house1/rooms', { name: 'kitchen', floor: 1, type: 'kitchen', windows: 1 }],
      [
        'POST',
        '/v1/houses/house1/rooms/kitchen/devices',
        { name: 'light', kind: 'appliance', type: 'light' },
      ],
      ['POST', '/v1/houses/house1/rooms/kitchen/devices', { name: 'ava', kind: 'sensor', type: 'ava' }],
      ['POST', '/v1/occupants', { name: 'sam', type: 'adult' }],
      ['PUT', '/v1/houses/house1/occupants/sam'],
    ] as [string, string, unknown?][]) {
      const response = await call(server.url, method, path, { token: admin, body })
      expect([200, 201], `${method} ${path}: ${JSON.stringify(response.body)}`).toContain(response.status)
    }
    controller = await registerController(server.url, admin)
  })
  afterAll(async () => {
    await server.stop()
    temp.remove()
  })

  const session = (token?: string) =>
    call(server.url, 'POST', '/v1/sessions', {
      ...(token ? { token } : {}),
      body: { voice_print: '--sam--' },
    })
  const voiceCommand = (token?: string, voice_print = '--sam--') =>
    call(server.url, 'POST', '/v1/voice-commands', {
      ...(token ? { token } : {}),
      body: { listener: 'house1:kitchen:ava', voice_print, utterance: 'lights on' },
    })

  it('gives no token for a voice print posted anonymously', async () => {
    const anonymous = await session()
    expect(anonymous.status).toBe(401)
    expect(anonymous.body).toMatchObject({ code: 'InvalidAccessToken' })
    expect(anonymous.body.token).toBeUndefined()
    expect(await voiceCommand()).toMatchObject({ status: 401, body: { code: 'InvalidAccessToken' } })
  })

  it('refuses a voice print relayed with the token of a user who is not a controller, even an administrator', async () => {
    const sam = (await session(controller)).body.token as string
    expect(await session(sam)).toMatchObject({ status: 403, body: { code: 'AccessDenied' } })
    expect(await session(admin)).toMatchObject({ status: 403, body: { code: 'AccessDenied' } })
    expect(await voiceCommand(admin)).toMatchObject({ status: 403, body: { code: 'AccessDenied' } })
  })

  it("logs in through the controller's credential, for a token that lives minutes", async () => {
    const before = Date.now()
    const login = await session(controller)
    expect(login).toMatchObject({ status: 201, body: { user: 'sam' } })
    const lifetime = Date.parse(login.body.expires_at as string) - before
    expect(lifetime).toBeGreaterThanOrEqual(300_000 - 1_000)
    expect(lifetime).toBeLessThanOrEqual(300_000 + 5_000) // voiceTokenLifetimeSeconds: 300
    expect(await voiceCommand(controller)).toMatchObject({
      status: 200,
      body: { user: 'sam', device: 'house1:kitchen:light', status: 'power', value: 'on' },
    })
  })

  it('counts voice prints before checking them, on every node: parallel guesses through a controller stop at the limit', async () => {
    // A second server process on the same store: the count is the store's, not each node's.
    const other = await startServer(temp.target, { CUSTODIAN_LOGIN_MAX_FAILURES_ADDRESS: '5' })
    try {
      const guesses = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          call(i % 2 === 0 ? server.url : other.url, 'POST', '/v1/sessions', {
            token: controller,
            body: { voice_print: `--guess${i}--` },
          }),
        ),
      )
      const statuses = guesses.map((g) => g.status)
      // CUSTODIAN_LOGIN_MAX_FAILURES_ADDRESS is 5 here: five checked, the rest refused unchecked.
      expect(statuses.filter((s) => s === 401)).toHaveLength(5)
      expect(statuses.filter((s) => s === 429)).toHaveLength(35)
      expect(statuses).not.toContain(201)
    } finally {
      await other.stop()
    }
  })
})
