/**
 * Building and signing RFC 9068 access tokens, and the escape hatches tests need to forge bad ones.
 */
import { constants, createPrivateKey, type JsonWebKey, sign as nodeSign, randomUUID } from 'node:crypto'
import { type CryptoKey, type JWK as JoseJWK, SignJWT } from 'jose'
import type { Algorithm, JWTClaims } from '../core/types.js'

/**
 * How access tokens are issued: `jwt`, a signed RFC 9068 token any resource server verifies with the JWKS;
 * `opaque`, a random reference the issuer keeps, which resource servers introspect (RFC 7662).
 */
export type TokenFormat = 'jwt' | 'opaque'

export const TOKEN_FORMATS: readonly TokenFormat[] = Object.freeze(['jwt', 'opaque'])

/** What goes into a client-credentials token besides the registered claims. */
export interface AccessTokenInput {
  issuer: string
  audience: string | string[]
  sub: string
  clientId: string
  scopes: readonly string[]
  roles?: readonly string[] | undefined
  permissions?: readonly string[] | undefined
  extra?: Record<string, unknown> | undefined
  /** The RFC 7638 thumbprint of the client's DPoP key: the token is bound to it (`cnf.jkt`, RFC 9449 §6.1). */
  jkt?: string | undefined
  /** Lifetime in seconds; negative makes an already expired token. */
  expiresIn: number
  /** Milliseconds since the epoch. */
  now: number
}

/**
 * The claims of an RFC 9068 §2.2 access token: `iss`, `sub`, `aud`, `exp`, `iat`, `jti`, `client_id`,
 * and `scope` when there is one; `roles` and `permissions` when non-empty (the Auth0 / reference API
 * convention). Extra claims never override these.
 */
export function accessTokenClaims(input: AccessTokenInput): JWTClaims {
  const now = Math.floor(input.now / 1000)
  const exp = now + Math.round(input.expiresIn)
  // An already expired token was issued before it expired, as a real one would have been.
  const iat = Math.min(now, exp - 1)
  const claims: JWTClaims = {
    ...input.extra,
    iss: input.issuer,
    sub: input.sub,
    aud: input.audience,
    iat,
    exp,
    jti: randomUUID(),
    client_id: input.clientId,
  }
  if (input.scopes.length > 0) claims.scope = input.scopes.join(' ')
  if (input.roles !== undefined && input.roles.length > 0) claims.roles = [...input.roles]
  if (input.permissions !== undefined && input.permissions.length > 0)
    claims.permissions = [...input.permissions]
  if (input.jkt !== undefined) claims.cnf = { jkt: input.jkt }
  return claims
}

export interface SignInput {
  alg: Algorithm
  kid: string | undefined
  privateKey: CryptoKey
  privateJwk: JoseJWK
}

/**
 * Sign `claims` as a JWS compact token with header `{ alg, typ: "at+jwt", kid }` (RFC 9068 §2.1), then
 * `header` merged over it. A member set to `undefined` in `header` or `claims` is removed, so tests can
 * forge tokens without `kid` or without `exp`.
 *
 * Forgeries jose refuses to sign are produced by hand: `header.alg: "none"` gives an unsigned token with
 * an empty signature, and any other `header.alg` that differs from the key's algorithm gives a token
 * signed with the key's real algorithm under a lying header (an algorithm-confusion attempt).
 */
export async function signToken(
  key: SignInput,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const protectedHeader = dropUndefined({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...header })
  const payload = dropUndefined(claims)
  if (protectedHeader.alg === key.alg) {
    return new SignJWT(payload).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey)
  }
  const input = `${b64json(protectedHeader)}.${b64json(payload)}`
  if (protectedHeader.alg === 'none') return `${input}.`
  return `${input}.${rawSign(key.alg, key.privateJwk, input).toString('base64url')}`
}

/** A JWS signature computed with node:crypto, for the forgeries jose rightly refuses (RFC 7518 §3). */
function rawSign(alg: Algorithm, jwk: JoseJWK, input: string): Buffer {
  const key = createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' })
  if (alg === 'EdDSA') return nodeSign(null, Buffer.from(input), key)
  const hash = `sha${alg.slice(2)}`
  if (alg.startsWith('PS')) {
    return nodeSign(hash, Buffer.from(input), {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(alg.slice(2)) / 8,
    })
  }
  if (alg.startsWith('ES')) return nodeSign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
  return nodeSign(hash, Buffer.from(input), key)
}

/** `record` without its `undefined` members. */
export function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(record)) if (value !== undefined) out[name] = value
  return out
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}
