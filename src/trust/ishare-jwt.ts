import { randomUUID, X509Certificate } from 'node:crypto'
import {
  decodeProtectedHeader,
  importPKCS8,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose'
import { type Certificate, invalidAt, readCertificate, validatePath } from './certificate-path.js'

/**
 * The JWTs iSHARE parties exchange (delegation evidence, client assertions, party and capabilities tokens):
 * signed RS256 by a party, its certificate chain in `x5c`, the party named by its certificate's subject
 * serialNumber, short-lived. Signing and the checks every kind shares; each kind adds its own.
 */
export interface SigningMaterial {
  /** PKCS#8 PEM. */
  key: string
  /** PEM certificates, the signing certificate first, the root last. */
  chain: string[]
}

const pemBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '')

/** Signs `claims` as `issuer` (also the subject) for `audience` (none: anyone), living `lifetimeSeconds`. */
export async function signPartyJwt(
  material: SigningMaterial,
  claims: JWTPayload,
  to: { issuer: string; subject?: string; audience?: string; nowSeconds: number; lifetimeSeconds: number },
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5c: material.chain.map(pemBody) })
    .setIssuer(to.issuer)
    .setSubject(to.subject ?? to.issuer)
    .setJti(randomUUID())
    .setIssuedAt(to.nowSeconds)
    .setExpirationTime(to.nowSeconds + to.lifetimeSeconds)
  if (to.audience !== undefined) jwt.setAudience(to.audience)
  return jwt.sign(await importPKCS8(material.key, 'RS256'))
}

/** A JWT refused, and why (the text is told to whoever sent it). */
export class SignedJwtRefused extends Error {}

export interface PartyJwtOptions {
  /** PEM root certificates; the x5c chain must end at one of them. */
  trustedRoots: readonly string[]
  /** Who the JWT must be addressed to. */
  audience: string
  nowSeconds: number
  /** How far ahead of now a JWT's `iat` may be, for clocks that differ. */
  clockSkewSeconds: number
  /** The longest `exp` - `iat` accepted, and what the JWT is, for the refusal ("delegation evidence"). */
  maxLifetime: { seconds: number; what: string }
}

export interface PartyJwt {
  payload: JWTPayload & { iss: string; iat: number; exp: number; jti: string }
  /** The party the signing certificate names (its subject's serialNumber), which is also `iss`. */
  signer: string
}

const MAX_JTI_LENGTH = 200

/**
 * Verifies a party's JWT: RS256 only; an x5c chain validated as RFC 5280 asks (every link issued and signed
 * by the next, valid now and when signed, issuers CAs within their path length and key usage) up to a
 * trusted root; the signature; `iss` the party the signing certificate names; audience, lifetime (`iat` not
 * ahead of now, at most `maxLifetime`) and a `jti`. Whether the `jti` is new is the caller's to ask, last.
 * Throws `SignedJwtRefused` saying why.
 */
export async function verifyPartyJwt(token: string, options: PartyJwtOptions): Promise<PartyJwt> {
  let header: ReturnType<typeof decodeProtectedHeader>
  try {
    header = decodeProtectedHeader(token)
  } catch {
    throw new SignedJwtRefused('not a JWT')
  }
  if (header.alg !== 'RS256')
    throw new SignedJwtRefused(`alg ${String(header.alg)} is refused: only RS256 is accepted`)
  if (!Array.isArray(header.x5c) || header.x5c.length === 0)
    throw new SignedJwtRefused('the JWT carries no x5c certificate chain')
  let chain: Certificate[]
  try {
    chain = header.x5c.map((der) => readCertificate(Buffer.from(der, 'base64')))
  } catch {
    throw new SignedJwtRefused('the x5c chain holds something that is not a certificate')
  }
  const now = options.nowSeconds
  const validated = validatePath(
    chain,
    options.trustedRoots.map((pem) => readCertificate(new X509Certificate(pem).raw)),
    now,
  )
  if ('problem' in validated) throw new SignedJwtRefused(validated.problem)
  const leaf = validated.path[0] as Certificate
  // iSHARE certificates carry the party id as the subject's serialNumber: the one name the signer goes by.
  if (leaf.serialNumbers.length !== 1)
    throw new SignedJwtRefused(
      `the signing certificate must name one party (its subject's serialNumber); it names ${leaf.serialNumbers.length}`,
    )
  const signer = leaf.serialNumbers[0] as string
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, leaf.x509.publicKey, {
      algorithms: ['RS256'],
      audience: options.audience,
      currentDate: new Date(now * 1000),
      requiredClaims: ['iss', 'iat', 'exp', 'jti'],
    }))
  } catch (error) {
    if (error instanceof joseErrors.JOSEError)
      throw new SignedJwtRefused(`the JWT is refused: ${error.message}`)
    throw error
  }
  const { iss, iat, exp, jti } = payload as { iss: string; iat: number; exp: number; jti: unknown }
  if (iss !== signer)
    throw new SignedJwtRefused(
      `the JWT's iss ${iss} is not the party its signing certificate names (${signer})`,
    )
  if (iat > now + options.clockSkewSeconds)
    throw new SignedJwtRefused(
      `the JWT's iat ${iat} is in the future (now ${now}, allowing ${options.clockSkewSeconds} s of clock skew)`,
    )
  const { seconds, what } = options.maxLifetime
  if (exp - iat > seconds)
    throw new SignedJwtRefused(`the JWT lives ${exp - iat} s; ${what} lives at most ${seconds} s`)
  const unsigned = invalidAt(validated.path, iat)
  if (unsigned) throw new SignedJwtRefused(`${unsigned} was not valid when the JWT was signed (iat ${iat})`)
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH)
    throw new SignedJwtRefused(`the JWT's jti must be a string of 1 to ${MAX_JTI_LENGTH} characters`)
  return { payload: payload as PartyJwt['payload'], signer }
}
