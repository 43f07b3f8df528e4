/**
 * The peer libraries, each configured for the same policy as Gatehouse (signature, algorithm allow-list,
 * exact `iss`, `aud`, `exp`) as far as its options allow; docs/benchmarks.md lists where one checks less.
 * A factory returns `null` when the library does not support the algorithm (reported as "n/a").
 */
import { JwtVerifier } from 'aws-jwt-verify'
import { createVerifier as createFastJwtVerifier } from 'fast-jwt'
import { createLocalJWKSet, jwtVerify } from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { AUDIENCE, ISSUER } from './tokens.js'

/** jose `jwtVerify` with a local JWK Set: WebCrypto underneath, keys imported once and cached by jose. */
export function createJose(alg, { jwks }) {
  const keySet = createLocalJWKSet(jwks)
  const options = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg], requiredClaims: ['exp'] }
  return (token) => jwtVerify(token, keySet, options)
}

/**
 * fast-jwt as it is used with a JWKS (e.g. through get-jwks): an async key function that looks the PEM up
 * by `kid`. fast-jwt re-imports a key returned this way on every call.
 */
export function createFastJwtKeyFn(alg, { keys }, { cache = false } = {}) {
  const pems = new Map([...keys.values()].map((k) => [k.kid, k.pem]))
  return createFastJwtVerifier({
    key: async (decoded) => pems.get(decoded.header.kid),
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    requiredClaims: ['exp'],
    cache,
  })
}

/** fast-jwt with one static key, imported once at construction: its best case, but no key set or rotation. */
export function createFastJwtStatic(alg, { keys }) {
  return createFastJwtVerifier({
    key: keys.get(alg).pem,
    algorithms: [alg],
    allowedIss: ISSUER,
    allowedAud: AUDIENCE,
    requiredClaims: ['exp'],
  })
}

/** jsonwebtoken with a pre-imported KeyObject (a PEM string would be re-parsed on every call). No EdDSA. */
export function createJsonwebtoken(alg, { keys }) {
  if (alg === 'EdDSA') return null
  const key = keys.get(alg).keyObject
  const options = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE }
  return (token) => jsonwebtoken.verify(token, key, options)
}

/**
 * aws-jwt-verify's generic JwtVerifier, its JWKS cache primed with `cacheJwks` so nothing is fetched.
 * It has no algorithm option: the JWK's `alg` decides, and PS* is not supported at all.
 */
export function createAwsJwtVerify(alg, { jwks }) {
  if (alg.startsWith('PS')) return null
  const verifier = JwtVerifier.create({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: 'https://example.invalid/.well-known/jwks.json',
  })
  verifier.cacheJwks(jwks)
  return (token) => verifier.verify(token)
}
