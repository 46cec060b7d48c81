import { describe, expect, it } from 'vitest'
import { checkClientMetadata, clientMetadata } from './registration-metadata.js'

const valid = {
  client_name: 'Solar Savings',
  redirect_uris: ['https://solar.example/callback'],
  scope: 'fb=4_5;IntervalDuration=3600',
  thirdPartyNotifyUri: 'https://solar.example/notify',
}
const refused = (change: Record<string, unknown>) => {
  const check = checkClientMetadata({ ...valid, ...change })
  return check.ok ? undefined : { error: check.error, description: check.description }
}

describe('what a third party may register about itself', () => {
  it('takes RFC 7591 metadata with the ESPI fields, the scope in its canonical form', () => {
    const check = checkClientMetadata({
      ...valid,
      thirdPartyApplicationDescription: 'Sizes solar panels',
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_basic',
      logo_uri: 'https://solar.example/logo.png', // unknown to this server: ignored (RFC 7591 §2)
    })
    expect(check).toEqual({
      ok: true,
      registration: {
        name: 'Solar Savings',
        description: 'Sizes solar panels',
        redirectUris: ['https://solar.example/callback'],
        notifyUri: 'https://solar.example/notify',
        scope: 'FB=4_5;IntervalDuration=3600',
      },
    })
  })

  it('allows http redirect URIs on localhost only', () => {
    expect(refused({ redirect_uris: ['http://localhost:3000/cb', 'http://127.0.0.1/cb'] })).toBeUndefined()
    expect(refused({ redirect_uris: ['https://ok.example/cb', 'http://solar.example/cb'] })).toEqual({
      error: 'invalid_redirect_uri',
      description: 'redirect_uris[1] "http://solar.example/cb" must use https (http only for localhost)',
    })
    expect(refused({ redirect_uris: ['https://solar.example/cb#x'] })?.error).toBe('invalid_redirect_uri')
    expect(refused({ redirect_uris: ['/cb'] })?.description).toBe(
      'redirect_uris[0] "/cb" is not an absolute URL',
    )
    expect(refused({ redirect_uris: [] })?.error).toBe('invalid_redirect_uri')
  })

  it('names the field of every other refusal, as invalid_client_metadata', () => {
    expect(refused({ scope: 'openid profile' })).toEqual({
      error: 'invalid_client_metadata',
      description: 'scope "openid profile": openid profile: an ESPI scope is one token without spaces',
    })
    expect(refused({ scope: 'FB=4;BR=7' })?.description).toBe(
      'scope: BR (a bulk request id) is assigned by the utility',
    )
    expect(refused({ grant_types: ['implicit'] })?.description).toBe(
      'grant_types "implicit" is not offered here (only authorization_code, refresh_token, client_credentials)',
    )
    expect(refused({ response_types: ['token'] })?.error).toBe('invalid_client_metadata')
    expect(refused({ token_endpoint_auth_method: 'none' })?.description).toMatch(
      /^token_endpoint_auth_method "none"/,
    )
    expect(refused({ client_name: ' ' })?.description).toMatch(/^client_name is required/)
    expect(refused({ thirdPartyNotifyUri: 'http://solar.example/notify' })?.description).toMatch(
      /^thirdPartyNotifyUri .* must use https/,
    )
    expect(refused({ software_statement: 'eyJ...' })?.error).toBe('invalid_software_statement')
    expect(checkClientMetadata([valid])).toMatchObject({ ok: false, error: 'invalid_client_metadata' })
  })

  it('describes a registered third party without its secret', () => {
    const metadata = clientMetadata({
      client_id: 'tp_1',
      name: 'Solar Savings',
      description: '',
      redirect_uris: '["https://solar.example/callback"]',
      notify_uri: 'https://solar.example/notify',
      scope: 'FB=4',
      scope_selection_uri: null,
      created_at: '2026-11-23T10:00:00.000Z',
    })
    expect(metadata).toEqual({
      client_id: 'tp_1',
      client_id_issued_at: 1795428000,
      client_name: 'Solar Savings',
      redirect_uris: ['https://solar.example/callback'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'FB=4',
      thirdPartyNotifyUri: 'https://solar.example/notify',
    })
  })
})
