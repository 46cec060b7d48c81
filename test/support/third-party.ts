import * as client from 'openid-client'
import { readEspi } from '../../src/greenbutton/espi-reader.js'
import { authorizeAsCustomer, type ConsentChoice } from './oauth-customer.js'
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

/**
 * A customer's grant through the consent flow, as the third party completes it: its access token, the
 * Authorization's id, and the subscription its data is served under (named by the Authorization resource).
 */
export async function grantAccess(
  url: string,
  config: client.Configuration,
  redirectUri: string,
  scope: string,
  choice: ConsentChoice,
) {
  const flow = await authorizationRequest(config, redirectUri, scope)
  const { callback } = await authorizeAsCustomer(url, flow.url, redirectUri, choice)
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: flow.codeVerifier,
    expectedState: flow.state,
  })
  const token = tokens.access_token
  const authorization = (await client.tokenIntrospection(config, token)).authorization_id as string
  const response = await fetch(`${url}/espi/1_1/resource/Authorization/${authorization}`, {
    headers: { authorization: `Bearer ${token}` },
  })
  const { entries } = await readEspi([await response.text()])
  const resourceURI = String((entries[0]?.content as { fields: Record<string, unknown> }).fields.resourceURI)
  return { token, authorization, subscription: resourceURI.split('/').at(-1) as string }
}
