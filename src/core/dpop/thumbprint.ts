/**
 * JWK SHA-256 thumbprints (RFC 7638): what a DPoP-bound token names its key by, in `cnf.jkt` (RFC 9449
 * §6.1). The hash input is the JSON object of the key type's required members only, in lexicographic
 * order, without whitespace (§3.2): `crv`, `kty`, `x`, `y` for EC; `e`, `kty`, `n` for RSA; `crv`, `kty`,
 * `x` for OKP (RFC 8037 §2).
 */

import { sha256, sha256Sync } from '../crypto/digest.js'
import type { JWK } from '../types.js'

/**
 * The RFC 7638 §3 hash input of a public JWK, or undefined when `kty` is not EC, RSA or OKP or a required
 * member is missing or not a string. Does not check that the members describe a usable key (importing
 * the key does).
 */
export function thumbprintInput(jwk: JWK): string | undefined {
  const { kty, crv, x, y, e, n } = jwk
  // JSON.stringify quotes and escapes each value as RFC 7638 §3.3 asks (UTF-8 JSON strings).
  if (kty === 'EC' && typeof crv === 'string' && typeof x === 'string' && typeof y === 'string')
    return `{"crv":${JSON.stringify(crv)},"kty":"EC","x":${JSON.stringify(x)},"y":${JSON.stringify(y)}}`
  if (kty === 'RSA' && typeof e === 'string' && typeof n === 'string')
    return `{"e":${JSON.stringify(e)},"kty":"RSA","n":${JSON.stringify(n)}}`
  if (kty === 'OKP' && typeof crv === 'string' && typeof x === 'string')
    return `{"crv":${JSON.stringify(crv)},"kty":"OKP","x":${JSON.stringify(x)}}`
  return undefined
}

/**
 * The RFC 7638 SHA-256 thumbprint of a public JWK, base64url-encoded (the form of `cnf.jkt`), on any
 * runtime; undefined as {@link thumbprintInput}.
 *
 * @example await jwkThumbprint({ kty: 'RSA', e: 'AQAB', n: '0vx7ago…' }) // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 */
export async function jwkThumbprint(jwk: JWK): Promise<string | undefined> {
  const input = thumbprintInput(jwk)
  return input === undefined ? undefined : sha256(input)
}

/** {@link jwkThumbprint} without waiting; only where node:crypto is (`canDigestSync`). */
export function jwkThumbprintSync(jwk: JWK): string | undefined {
  const input = thumbprintInput(jwk)
  return input === undefined ? undefined : sha256Sync(input)
}
