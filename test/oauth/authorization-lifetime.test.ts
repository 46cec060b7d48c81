import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConsentService } from '../../src/consent/consent-service.js'
import { Custodian } from '../../src/custodian.js'
import { buildApp } from '../../src/http/app.js'
import { createLogger } from '../../src/logger.js'
import { authorizeAsCustomer } from '../support/oauth-customer.js'
import { tempSqlite } from '../support/temp-store.js'
import { authorizationRequest, discoverAs } from '../support/third-party.js'

/** Extension and termination take effect for tokens already issued: the real HTTP app, with a test clock. */
describe('an Authorization’s period governs its tokens', () => {
  const temp = tempSqlite()
  let offset = 0
  const clock = () => Date.now() + offset
  let custodian: Custodian
  let consent: ConsentService
  let close: () => Promise<void>
  let base: string
  let config: client.Configuration
  const redirectUri = 'https://app.example/cb'

  const authorize = async () => {
    const { url, codeVerifier, state } = await authorizationRequest(config, redirectUri, 'FB=4')
    const { callback } = await authorizeAsCustomer(base, url, redirectUri, {
      username: 'erin',
      password: 'erin password',
    })
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
    })
    const id = (await client.tokenIntrospection(config, tokens.access_token)).authorization_id as string
    return { tokens, id }
  }
  const erin = async () => (await custodian.login('erin', 'erin password')).token

  beforeAll(async () => {
    custodian = await Custodian.open({
      db: temp.target,
      clock,
      follow: false,
      config: { logLevel: 'silent' },
    })
    consent = new ConsentService(custodian)
    const app = await buildApp(custodian, { logger: createLogger('silent') })
    base = await app.listen({ port: 0, host: '127.0.0.1' })
    custodian.config.publicUrl = base
    close = async () => {
      await app.close()
      await custodian.close()
    }
    await consent.createCustomer(undefined, {
      username: 'erin',
      name: 'Erin',
      email: 'erin@example.org',
      accountNumber: 'E-1',
      password: 'erin password',
    })
    await consent.createUsagePoint(undefined, { customer: 'erin', description: 'Meter', kind: 'electricity' })
    const party = await consent.registerThirdParty(undefined, {
      name: 'Tariff Finder',
      description: '',
      redirectUris: [redirectUri],
      notifyUri: 'https://app.example/notify',
      scope: 'FB=1_4',
    })
    config = await discoverAs(base, party.clientId, party.clientSecret)
  })
  afterAll(async () => {
    await close()
    temp.remove()
  })

  it('after the termination date, every token of the Authorization is refused and refresh fails', async () => {
    const { tokens, id } = await authorize()
    await consent.terminate(await erin(), id, 'today')
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true) // today's data stays available
    offset += 86_400_000
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false)
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
  })

  it('an extension takes effect at once for the tokens already issued', async () => {
    const { tokens, id } = await authorize()
    await consent.extend(await erin(), id, '+2d')
    offset += 3 * 86_400_000
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(false)
    await expect(client.refreshTokenGrant(config, tokens.refresh_token as string)).rejects.toMatchObject({
      error: 'invalid_grant',
    })
    await consent.extend(await erin(), id, '+30d')
    expect((await client.tokenIntrospection(config, tokens.access_token)).active).toBe(true)
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token as string)
    expect((await client.tokenIntrospection(config, refreshed.access_token)).authorization_id).toBe(id)
  })
})
