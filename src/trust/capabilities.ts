/**
 * What this server offers iSHARE parties, as they publish it (`capabilities_info` of a capabilities_token):
 * its roles, and its features, public (anyone) and restricted (with an access token).
 */
export const CAPABILITIES_LIFETIME_SECONDS = 30

interface Feature {
  id: string
  feature: string
  description: string
  url: string
  token_endpoint: string
}

export interface CapabilitiesInfo {
  party_id: string
  ishare_roles: { role: string }[]
  supported_versions: {
    version: string
    supported_features: ({ public: Feature[] } | { restricted: Feature[] })[]
  }[]
}

/** The capabilities of the server `partyId` at `baseUrl`; the restricted features only when `restricted`. */
export function buildCapabilities(partyId: string, baseUrl: string, restricted: boolean): CapabilitiesInfo {
  const base = baseUrl.replace(/\/$/, '')
  const token = `${base}/connect/token`
  const feature = (id: string, name: string, description: string, path: string): Feature => ({
    id,
    feature: name,
    description,
    url: `${base}${path}`,
    token_endpoint: token,
  })
  const open = [
    feature(
      'access-token',
      'access token',
      'An access token for a client assertion (RFC 7523)',
      '/connect/token',
    ),
    feature('capabilities', 'capabilities', 'What this server offers, signed', '/capabilities'),
    feature(
      'delegation-certificates',
      'delegation certificates',
      'The certificate chain that signs delegation evidence',
      '/delegation/certificates',
    ),
  ]
  const closed = [
    feature('delegation', 'delegation', 'Delegation evidence for a delegation mask, signed', '/delegation'),
    feature(
      'delegation-policies',
      'delegation policies',
      "A policy issuer's delegation evidence, stored and listed",
      '/v1/delegation-policies',
    ),
    feature(
      'trust-decision',
      'trust decision',
      'A BDI trust decision, input by input',
      '/v1/trust/decisions',
    ),
  ]
  return {
    party_id: partyId,
    ishare_roles: [{ role: 'AuthorisationRegistry' }],
    supported_versions: ['2.0', '3.0'].map((version) => ({
      version,
      supported_features: [{ public: open }, ...(restricted ? [{ restricted: closed }] : [])],
    })),
  }
}
