import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { signPartyJwt } from '../../src/trust/ishare-jwt.js'
import { trustServicesOf } from '../../src/trust/operations.js'
import { CLIENT_ASSERTION_TYPE } from '../../src/trust/party-client.js'
import { tempSqlite } from '../support/temp-store.js'
import { type Issued, material, type TestPki, testPki } from '../support/test-pki.js'

/**
 * iSHARE machine-to-machine authentication (issue 16): a party gets an access token only with a client
 * assertion it signed itself, for this server, fresh and short-lived, under a certificate of a trusted
 * scheme root naming it, while the participant register says it is active. Each refusal its own test.
 */

const REGISTER = 'EU.EORI.NLREGISTER'
const CARRIER = 'EU.EORI.NL000000001'
const OTHER = 'EU.EORI.NL000000002'
const SUSPENDED = 'EU.EORI.NL000000007'
const STRANGER = 'EU.EORI.NL000000008'

const now = () => Math.floor(Date.now() / 1000)

describe('the iSHARE token endpoint', () => {
  const temp = tempSqlite()
  let pki: TestPki
  let carrier: Issued
  let custodian: Custodian
  let app: Awaited<ReturnType<typeof buildApp>>

  beforeAll(async () => {
    pki = testPki()
    carrier = pki.participant(CARRIER)
    const roots = join(temp.dir, 'scheme-roots.pem')
    writeFileSync(roots, pki.root.pem)
    custodian = await Custodian.open({
      db: temp.target,
      follow: false,
      config: { logLevel: 'silent', registerId: REGISTER, trustedRoots: roots },
    })
    app = await buildApp(custodian, { logger: createLogger('silent') })
    // The participant register here: the parties recorded, with their memberships (bootstrap: no admin yet).
    const { trust } = trustServicesOf(custodian)
    await trust.putAssociation(undefined, { id: 'port' })
    for (const [id, status] of [
      [CARRIER, 'active'],
      [OTHER, 'active'],
      [SUSPENDED, 'suspended'],
    ] as const)
      await trust.putParty(undefined, { id, memberships: [{ association: 'port', status }] })
  })
  afterAll(async () => {
    await app.close()
    await custodian.close()
    temp.remove()
  })

  /** An assertion signed with `signer`'s key and chain; by default the carrier's, for this register, now. */
  const assertion = (
    options: {
      signer?: Issued
      iss?: string
      sub?: string
      aud?: string
      iat?: number
      lifetime?: number
    } = {},
  ) =>
    signPartyJwt(
      material(options.signer ?? carrier),
      {},
      {
        issuer: options.iss ?? CARRIER,
        subject: options.sub ?? options.iss ?? CARRIER,
        audience: options.aud ?? REGISTER,
        nowSeconds: options.iat ?? now(),
        lifetimeSeconds: options.lifetime ?? 30,
      },
    )

  const ask = async (jwt: string, fields: Record<string, string> = {}, url = '/connect/token') => {
    const response = await app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'iSHARE',
        client_id: CARRIER,
        client_assertion_type: CLIENT_ASSERTION_TYPE,
        client_assertion: jwt,
        ...fields,
      }).toString(),
    })
    return { status: response.statusCode, body: response.json() as Record<string, unknown> }
  }
  const refusal = async (jwt: string, fields: Record<string, string> = {}) => {
    const { status, body } = await ask(jwt, fields)
    return { status, error: body.error, description: String(body.error_description) }
  }

  it('gives an access token for a good assertion, usable on the register’s iSHARE endpoints', async () => {
    const { status, body } = await ask(await assertion())
    expect(status).toBe(200)
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'iSHARE' })
    const token = body.access_token as string
    // Authenticated as the carrier: the register looks for evidence (none here) rather than refusing.
    const delegation = await app.inject({
      method: 'POST',
      url: '/delegation',
      headers: { authorization: `Bearer ${token}` },
      payload: {
        delegationRequest: {
          policyIssuer: OTHER,
          target: { accessSubject: CARRIER },
          policySets: [
            {
              policies: [
                {
                  target: {
                    resource: { type: 'T', identifiers: ['*'], attributes: ['*'] },
                    actions: ['read'],
                  },
                  rules: [{ effect: 'Permit' }],
                },
              ],
            },
          ],
        },
      },
    })
    expect(delegation.statusCode).toBe(404)
    expect(delegation.json().detail).toBe(`${OTHER} has no delegation evidence for ${CARRIER}`)
    // The same under the iSHARE 2.x name.
    const again = await ask(await assertion(), {}, '/oauth2.0/token')
    expect(again.status).toBe(200)
  })

  it('publishes signed capabilities: the public features to anyone, the restricted ones with a token', async () => {
    const features = async (token?: string) => {
      const response = await app.inject({
        method: 'GET',
        url: '/capabilities',
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      })
      const claims = decodeJwt(response.json().capabilities_token as string)
      return { aud: claims.aud, text: JSON.stringify(claims.capabilities_info) }
    }
    const open = await features()
    expect(open.aud).toBeUndefined()
    expect(open.text).toContain('/connect/token')
    expect(open.text).not.toContain('restricted')
    const token = (await ask(await assertion())).body.access_token as string
    const restricted = await features(token)
    expect(restricted.aud).toBe(CARRIER)
    expect(restricted.text).toContain('"restricted"')
  })

  it('refuses an assertion addressed to another server', async () => {
    expect(await refusal(await assertion({ aud: 'EU.EORI.NLELSEWHERE' }))).toEqual({
      status: 401,
      error: 'invalid_client',
      description: 'the client assertion is refused: the JWT is refused: unexpected "aud" claim value',
    })
  })

  it('refuses an assertion whose iss is not its sub', async () => {
    expect(await refusal(await assertion({ sub: OTHER }))).toEqual({
      status: 401,
      error: 'invalid_client',
      description: `the client assertion is refused: its sub ${OTHER} is not its iss ${CARRIER}`,
    })
  })

  it('refuses an assertion signed under a certificate naming another party', async () => {
    const other = pki.participant(OTHER)
    expect(await refusal(await assertion({ signer: other }))).toEqual({
      status: 401,
      error: 'invalid_client',
      description: `the client assertion is refused: the JWT's iss ${CARRIER} is not the party its signing certificate names (${OTHER})`,
    })
    // Nor may a party pass its own assertion off as another client's.
    expect(
      await refusal(await assertion({ signer: other, iss: OTHER }), { client_id: CARRIER }),
    ).toMatchObject({
      error: 'invalid_client',
      description: `the client assertion is refused: it is signed by ${OTHER}, not by the client ${CARRIER}`,
    })
  })

  it('refuses a certificate chain that ends at a root not trusted here', async () => {
    const impostor = testPki().participant(CARRIER)
    expect(await refusal(await assertion({ signer: impostor }))).toEqual({
      status: 401,
      error: 'invalid_client',
      description: 'the client assertion is refused: the certificate chain does not end at a trusted root',
    })
  })

  it('refuses a replayed assertion', async () => {
    const jwt = await assertion()
    expect((await ask(jwt)).status).toBe(200)
    const replay = await refusal(jwt)
    expect(replay.status).toBe(401)
    expect(replay.error).toBe('invalid_client')
    expect(replay.description).toMatch(
      new RegExp(
        `^the client assertion's jti \\S+ of ${CARRIER} was used before: an assertion is accepted once$`,
      ),
    )
  })

  it('refuses an expired assertion', async () => {
    const expired = await refusal(await assertion({ iat: now() - 100 }))
    expect(expired).toEqual({
      status: 401,
      error: 'invalid_client',
      description: 'the client assertion is refused: the JWT is refused: "exp" claim timestamp check failed',
    })
  })

  it('refuses an assertion living longer than 30 s', async () => {
    expect(await refusal(await assertion({ lifetime: 31 }))).toEqual({
      status: 401,
      error: 'invalid_client',
      description:
        'the client assertion is refused: the JWT lives 31 s; a client assertion lives at most 30 s',
    })
  })

  it('refuses an unsigned assertion (alg none)', async () => {
    const b64 = (json: object) => Buffer.from(JSON.stringify(json)).toString('base64url')
    const t = now()
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
      iss: CARRIER,
      sub: CARRIER,
      aud: REGISTER,
      iat: t,
      exp: t + 30,
      jti: 'unsigned',
    })}.`
    expect(await refusal(unsigned)).toEqual({
      status: 401,
      error: 'invalid_client',
      description: 'the client assertion is refused: alg none is refused: only RS256 is accepted',
    })
  })

  it('refuses a party the participant register says is not active, or does not know', async () => {
    for (const [party, reason] of [
      [SUSPENDED, `${SUSPENDED} has no active membership (port: suspended)`],
      [STRANGER, `${STRANGER} is not a party recorded in this participant register`],
    ] as const) {
      const signer = pki.participant(party)
      expect(await refusal(await assertion({ signer, iss: party }), { client_id: party })).toEqual({
        status: 401,
        error: 'invalid_client',
        description: `${party} is not an active party: ${reason}`,
      })
    }
  })

  it('answers a malformed request with the RFC 6749 error that names it', async () => {
    const jwt = await assertion()
    expect(await refusal(jwt, { scope: 'openid' })).toMatchObject({ status: 400, error: 'invalid_scope' })
    expect(await refusal(jwt, { grant_type: 'password' })).toMatchObject({
      status: 400,
      error: 'unsupported_grant_type',
    })
    expect(await refusal(jwt, { client_assertion_type: 'secret' })).toMatchObject({
      status: 400,
      error: 'invalid_request',
    })
    expect(await refusal('', {})).toEqual({
      status: 400,
      error: 'invalid_request',
      description: 'the form field client_assertion is missing',
    })
    const json = await app.inject({ method: 'POST', url: '/connect/token', payload: { client_id: CARRIER } })
    expect([json.statusCode, json.json()]).toEqual([
      400,
      {
        error: 'invalid_request',
        error_description: 'send the token request as application/x-www-form-urlencoded',
      },
    ])
  })
})
