import * as client from 'openid-client'
import { call } from './server.js'

/** A third party's OAuth client, as openid-client sets it up (http is allowed: the tests run on loopback). */
export const discoverAs = (baseUrl: string, clientId: string, clientSecret: string) =>
  client.discovery(
    new URL(`${baseUrl}/oauth`),
    clientId,
    clientSecret,
    client.ClientSecretBasic(clientSecret),
    {
      execute: [client.allowInsecureRequests],
      algorithm: 'oauth2',
    },
  )

/** An authorization request with PKCE, and what the third party keeps to finish it. */
export async function authorizationRequest(config: client.Configuration, redirectUri: string, scope: string) {
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
  })
  return { url: url.href, codeVerifier, state }
}

/** Solar Savings registered by the administrator over HTTP, with its credentials and its client set up. */
export async function registerSolarSavings(
  url: string,
  admin: string,
  registration: { redirectUri: string; notifyUri: string; scope: string },
) {
  const party = await call(url, 'POST', '/v1/third-parties', {
    token: admin,
    body: {
      name: 'Solar Savings',
      redirect_uris: [registration.redirectUri],
      notify_uri: registration.notifyUri,
      scope: registration.scope,
    },
  })
  if (party.status !== 201) throw new Error(`Solar Savings was not registered: ${JSON.stringify(party.body)}`)
  const clientId = party.body.client_id as string
  const clientSecret = party.body.client_secret as string
  return { clientId, clientSecret, config: await discoverAs(url, clientId, clientSecret) }
}
