import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { signPartyJwt } from '../../src/trust/ishare-jwt.js'
import { CLIENT_ASSERTION_TYPE, clientAssertion } from '../../src/trust/party-client.js'
import { partyServer } from '../support/ishare-party-server.js'
import { tempSqlite } from '../support/temp-store.js'
import { type Issued, material, testPki } from '../support/test-pki.js'

/**
 * The participant register is an iSHARE Satellite: before a party gets an access token, the Satellite's
 * `/parties` is asked (with this server's own access token, got with its client assertion), and its signed
 * party_token decides. A party it says is not active, or does not know, gets invalid_client with the reason;
 * a party_token not signed by the Satellite is not believed; a Satellite down refuses, saying so.
 */

const REGISTER = 'EU.EORI.NLREGISTER'
const SATELLITE = 'EU.EORI.NLSATELLITE'
const ACTIVE = 'EU.EORI.NL000000001'
const LAPSED = 'EU.EORI.NL000000002'
const UNKNOWN = 'EU.EORI.NL000000003'
const FORGED = 'EU.EORI.NL000000004'
/** Asked only once the Satellite is down (an answer of before would come from the cache). */
const LATE = 'EU.EORI.NL000000005'

describe('parties checked against a Satellite', () => {
  const temp = tempSqlite()
  const pki = testPki()
  const satellite = pki.participant(SATELLITE)
  const impostor = pki.participant('EU.EORI.NL000000666')
  const parties = new Map<string, Issued>(
    [ACTIVE, LAPSED, UNKNOWN, FORGED, LATE].map((id) => [id, pki.participant(id)]),
  )
  const asked: string[] = []
  const { server, assertions, listen } = partyServer('satellite-token', async (url) => {
    if (url.pathname !== '/parties') return { status: 404, body: {} }
    const id = url.searchParams.get('eori') ?? ''
    asked.push(id)
    const data =
      id === UNKNOWN
        ? []
        : [{ party_id: id, party_name: id, adherence: { status: id === LAPSED ? 'Revoked' : 'Active' } }]
    const signer = id === FORGED ? impostor : satellite
    const party_token = await signPartyJwt(
      material(signer),
      { parties_info: { count: data.length, data } },
      {
        issuer: id === FORGED ? 'EU.EORI.NL000000666' : SATELLITE,
        audience: REGISTER,
        nowSeconds: Math.floor(Date.now() / 1000),
        lifetimeSeconds: 30,
      },
    )
    return { status: 200, body: { party_token } }
  })
  let custodian: Custodian
  let app: Awaited<ReturnType<typeof buildApp>>

  beforeAll(async () => {
    const base = await listen()
    const roots = join(temp.dir, 'scheme-roots.pem')
    writeFileSync(roots, pki.root.pem)
    custodian = await Custodian.open({
      db: temp.target,
      follow: false,
      config: {
        logLevel: 'silent',
        registerId: REGISTER,
        trustedRoots: roots,
        participantRegister: base,
        participantRegisterId: SATELLITE,
        outboundAllow: '127.0.0.1',
        sourceTimeoutMs: 2000,
      },
    })
    app = await buildApp(custodian, { logger: createLogger('silent') })
  })
  afterAll(async () => {
    await app.close()
    await custodian.close()
    await new Promise((resolve) => server.close(resolve))
    temp.remove()
  })

  const tokenFor = async (party: string) => {
    const signer = parties.get(party) as Issued
    const response = await app.inject({
      method: 'POST',
      url: '/connect/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'iSHARE',
        client_id: party,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: await clientAssertion(
          material(signer),
          party,
          REGISTER,
          Math.floor(Date.now() / 1000),
        ),
      }).toString(),
    })
    const body = response.json() as Record<string, unknown>
    return { status: response.statusCode, error: body.error, description: body.error_description }
  }

  it('gives an active party its token, having asked the Satellite as this server, once per cache period', async () => {
    expect((await tokenFor(ACTIVE)).status).toBe(200)
    expect(assertions).toHaveLength(1)
    expect(assertions[0]).toMatchObject({ iss: REGISTER, sub: REGISTER, aud: SATELLITE })
    expect((await tokenFor(ACTIVE)).status).toBe(200)
    expect(asked.filter((id) => id === ACTIVE)).toHaveLength(1)
  })

  it('refuses a party the Satellite says is not active, or does not know', async () => {
    expect(await tokenFor(LAPSED)).toEqual({
      status: 401,
      error: 'invalid_client',
      description: `${LAPSED} is not an active party: the participant register says ${LAPSED} is Revoked`,
    })
    expect(await tokenFor(UNKNOWN)).toEqual({
      status: 401,
      error: 'invalid_client',
      description: `${UNKNOWN} is not an active party: the participant register does not know ${UNKNOWN}`,
    })
  })

  it('does not believe a party_token another party signed', async () => {
    expect(await tokenFor(FORGED)).toEqual({
      status: 401,
      error: 'invalid_client',
      description: `${FORGED} is not an active party: the participant register answered something unreadable: its party_token is signed by EU.EORI.NL000000666, not by ${SATELLITE}`,
    })
  })

  it('refuses every party while the Satellite cannot be asked, saying so', async () => {
    await new Promise((resolve) => server.close(resolve))
    server.closeAllConnections()
    expect(await tokenFor(LATE)).toEqual({
      status: 401,
      error: 'invalid_client',
      description: `${LATE} is not an active party: the participant register could not be asked`,
    })
  })
})
