import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { ROOT_ADMINISTRATOR, runLines } from '../support/script-session.js'
import { call } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * Third parties registering themselves (RFC 7591) and managing their registration (RFC 7592). Attacks:
 * register without the utility's say (no initial access token, a made-up, spent or expired one); take a
 * known third party's name; read, change or delete another third party's registration with one's own
 * registration access token; find a usable token or secret in the store.
 */
describe('dynamic registration refuses what the utility did not allow', () => {
  const temp = tempSqlite()
  let offset = 0
  let custodian: Custodian
  let base: string
  let close: () => Promise<void>
  let root: string
  const issued: string[] = []
  const secrets: string[] = []

  const metadata = (name: string) => ({
    client_name: name,
    redirect_uris: ['https://app.example/cb'],
    scope: 'FB=4_5;IntervalDuration=3600',
    thirdPartyNotifyUri: 'https://app.example/notify',
  })
  const issue = async (token = root, valid_for = '1h') => {
    const answer = await call(base, 'POST', '/v1/third-parties/registration-tokens', {
      token,
      body: { valid_for },
    })
    if (answer.status === 201) issued.push(answer.body.initial_access_token as string)
    return answer
  }
  const register = async (initialToken: string | undefined, body: unknown) => {
    const answer = await call(base, 'POST', '/oauth/reg', {
      ...(initialToken === undefined ? {} : { token: initialToken }),
      body,
    })
    if (answer.status === 201)
      secrets.push(answer.body.client_secret as string, answer.body.registration_access_token as string)
    return answer
  }
  const registered = async (name: string) => {
    const answer = await register((await issue()).body.initial_access_token as string, metadata(name))
    expect(answer.status).toBe(201)
    return answer.body as { client_id: string; client_secret: string; registration_access_token: string }
  }

  beforeAll(async () => {
    custodian = await Custodian.open({
      db: temp.target,
      clock: () => Date.now() + offset,
      follow: false,
      config: { logLevel: 'silent' },
    })
    const setup = await runLines(
      custodian,
      ...ROOT_ADMINISTRATOR,
      'define_permission third_party_admin, "Third parties", "Registers third parties"',
      'define_role partner_desk, "Partner desk", "Third parties"',
      'add_entitlement_to_role partner_desk, third_party_admin',
      'create_user tess, Tess',
      'add_user_credential tess, password, tess secret',
      'add_role_to_user tess, partner_desk',
      'create_user sam, Sam',
      'add_user_credential sam, password, sam secret',
    )
    expect(setup.filter((r) => r !== 'ok')).toEqual([])
    const app = await buildApp(custodian, { logger: createLogger('silent') })
    base = await app.listen({ port: 0, host: '127.0.0.1' })
    custodian.config.publicUrl = base
    root = (await custodian.login('root', 'root secret')).token
    close = async () => {
      await app.close()
      await custodian.close()
    }
  })
  afterAll(async () => {
    await close()
    temp.remove()
  })

  it('issues initial access tokens to third_party_admin holders only', async () => {
    const tess = (await custodian.login('tess', 'tess secret')).token
    const sam = (await custodian.login('sam', 'sam secret')).token
    expect((await issue(tess)).status).toBe(201)
    const refused = await issue(sam)
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toMatch(/third_party_admin/)
    expect((await call(base, 'POST', '/v1/third-parties/registration-tokens', { body: {} })).status).toBe(401)
  })

  it('refuses a registration without an initial access token, or with a made-up one', async () => {
    for (const token of [undefined, 'made-up', `${(await issue()).body.initial_access_token}x`]) {
      const answer = await register(token, metadata('Nobody'))
      expect(answer.status, String(token)).toBe(401)
      expect(answer.body.error).toBe('invalid_token')
      expect(answer.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    }
    const list = await call(base, 'GET', '/v1/third-parties')
    expect(list.body.items).toEqual([])
  })

  it('lets an initial access token register one third party only, and not after it expired', async () => {
    const once = (await issue()).body.initial_access_token as string
    expect((await register(once, metadata('First Solar'))).status).toBe(201)
    const again = await register(once, metadata('Second Solar'))
    expect(again.status).toBe(401)
    expect(again.body.error_description).toMatch(/already used/)

    const late = (await issue(root, '1h')).body.initial_access_token as string
    offset = 3_600_000 + 1_000
    try {
      const expired = await register(late, metadata('Late Solar'))
      expect(expired.status).toBe(401)
      expect(expired.body.error).toBe('invalid_token')
    } finally {
      offset = 0
    }
  })

  it('refuses bad metadata and another third party’s name without spending the token', async () => {
    const token = (await issue()).body.initial_access_token as string
    const cases: [unknown, string, RegExp][] = [
      [
        { ...metadata('Plain Http'), redirect_uris: ['http://app.example/cb'] },
        'invalid_redirect_uri',
        /https/,
      ],
      [{ ...metadata('Implicit'), grant_types: ['implicit'] }, 'invalid_client_metadata', /grant_types/],
      [{ ...metadata('Everything'), scope: 'openid' }, 'invalid_client_metadata', /^scope "openid"/],
      [{ ...metadata('Bulk'), scope: 'FB=4;BR=utility-bulk' }, 'invalid_client_metadata', /BR/],
      [metadata(' first  SOLAR '), 'invalid_client_metadata', /is another third party's name/],
    ]
    for (const [body, error, description] of cases) {
      const answer = await register(token, body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect(answer.body.error).toBe(error)
      expect(answer.body.error_description).toMatch(description)
    }
    expect((await register(token, metadata('Careful Solar'))).status).toBe(201)
  })

  it('refuses another client’s registration access token for reading, changing and deleting', async () => {
    const a = await registered('Alpha Energy')
    const b = await registered('Beta Energy')
    const at = `${base}/oauth/reg/${a.client_id}`
    const as = (method: string, token: string, body?: unknown) =>
      fetch(at, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      })
    const takeover = {
      ...metadata('Alpha Energy'),
      client_id: a.client_id,
      redirect_uris: ['https://evil.example/cb'],
    }
    for (const [method, body] of [['GET'], ['PUT', takeover], ['DELETE']] as const) {
      const answer = await as(method, b.registration_access_token, body)
      expect(answer.status, method).toBe(401)
      expect(((await answer.json()) as { error: string }).error).toBe('invalid_token')
    }
    // One character off is no token either.
    const near = `${a.registration_access_token.slice(0, -1)}${a.registration_access_token.endsWith('A') ? 'B' : 'A'}`
    expect((await as('GET', near)).status).toBe(401)
    // A body naming another client, or carrying a wrong secret, is refused with a's own token too.
    const other = await as('PUT', a.registration_access_token, { ...takeover, client_id: b.client_id })
    expect(other.status).toBe(400)
    const wrongSecret = await as('PUT', a.registration_access_token, {
      ...takeover,
      client_secret: b.client_secret,
    })
    expect(wrongSecret.status).toBe(400)
    expect(((await wrongSecret.json()) as { error_description: string }).error_description).toMatch(
      /client_secret/,
    )

    const read = await as('GET', a.registration_access_token)
    expect(read.status).toBe(200)
    expect(((await read.json()) as { redirect_uris: string[] }).redirect_uris).toEqual([
      'https://app.example/cb',
    ])
    expect(custodian.consent.thirdParties.get(a.client_id)?.standing).toBe('active')
  })

  it('keeps every token and secret as a SHA-256 hash only, nowhere in clear', async () => {
    const c = await registered('Gamma Energy')
    await custodian.flush()
    const db = new Database(temp.target, { readonly: true })
    try {
      const tables = (
        db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]
      ).map((t) => t.name)
      const everything = tables
        .map((table) => JSON.stringify(db.prepare(`select * from "${table}"`).all()))
        .join('\n')
      expect(issued.length).toBeGreaterThan(5)
      for (const secret of [...issued, ...secrets]) expect(everything).not.toContain(secret)
      const hash = createHash('sha256').update(c.registration_access_token).digest('hex')
      const row = db.prepare('select client_id from oidc_payloads where id = ?').get(hash) as
        | { client_id: string }
        | undefined
      expect(row?.client_id).toBe(c.client_id)
      const party = db
        .prepare('select secret_hash from espi_third_parties where client_id = ?')
        .get(c.client_id) as {
        secret_hash: string
      }
      expect(party.secret_hash).toBe(createHash('sha256').update(c.client_secret).digest('hex'))
    } finally {
      db.close()
    }
  })
})
