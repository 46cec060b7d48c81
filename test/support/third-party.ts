import * as client from 'openid-client'

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
