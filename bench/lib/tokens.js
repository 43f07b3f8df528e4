/**
 * Keys and pre-minted tokens shared by every contender, so that all of them verify exactly the same bytes.
 * Keys are generated with jose (WebCrypto) and exported as one public JWK Set, the way an issuer publishes
 * them; each contender then imports them its own way.
 */
import { createPublicKey, randomUUID } from 'node:crypto'
import { exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose'

/** The algorithms the benchmark knows, in table column order. */
export const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA']

/** Issuer in the Auth0 / AuthAction form (trailing slash), compared exactly by every contender. */
export const ISSUER = 'https://issuer.example.com/'
export const AUDIENCE = 'https://api.example.com'

/** How many tokens are signed at once: WebCrypto signs on the thread pool, so batches use both cores. */
const MINT_BATCH = 64

/**
 * Generate one key per algorithm (all four, even when fewer are benchmarked, because the sanity check
 * needs a key of another algorithm that is present in the key set) and one JWK Set holding them all.
 */
export async function createKeys() {
  const keys = new Map()
  for (const alg of ALGORITHMS) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
    const jwk = { ...(await exportJWK(publicKey)), kid: `bench-${alg.toLowerCase()}`, alg, use: 'sig' }
    const keyObject = createPublicKey({ key: jwk, format: 'jwk' })
    keys.set(alg, {
      alg,
      kid: jwk.kid,
      jwk,
      privateKey,
      keyObject,
      pem: keyObject.export({ type: 'spki', format: 'pem' }),
      cryptoKey: await importJWK(jwk, alg),
    })
  }
  return { keys, jwks: { keys: [...keys.values()].map((k) => k.jwk) } }
}

/** Realistic access-token claims (RFC 9068 shape). `overrides` replaces or, with `undefined`, removes. */
function claimsFor(index, overrides = {}) {
  const now = Math.floor(Date.now() / 1000)
  const claims = {
    iss: ISSUER,
    sub: `auth0|user-${String(index).padStart(6, '0')}`,
    aud: AUDIENCE,
    iat: now,
    exp: now + 3600,
    jti: randomUUID(),
    scope: 'openid profile read:orders write:orders',
    client_id: 'bench-client-4f2a9c',
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[name]
    else claims[name] = value
  }
  return claims
}

/** Sign claims with the key for `alg`; header carries `kid` and `typ: at+jwt` like a real access token. */
export function mint(key, claims) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
    .sign(key.privateKey)
}

/** `count` distinct valid tokens for one key (distinct `sub` and `jti`, so no two share a signature). */
export async function mintPool(key, count) {
  const pool = []
  for (let start = 0; start < count; start += MINT_BATCH) {
    const batch = []
    for (let i = start; i < Math.min(count, start + MINT_BATCH); i++) batch.push(mint(key, claimsFor(i)))
    pool.push(...(await Promise.all(batch)))
  }
  return pool
}

/**
 * Flip one bit in the middle of the decoded signature and re-encode it canonically. Editing the base64url
 * text instead could touch only the unused trailing bits, which a lenient decoder would ignore.
 */
export function flipSignatureByte(token) {
  const dot = token.lastIndexOf('.')
  const signature = Buffer.from(token.slice(dot + 1), 'base64url')
  signature[signature.length >> 1] ^= 0x01
  return `${token.slice(0, dot + 1)}${signature.toString('base64url')}`
}

/** An unsigned token (`alg: none`) naming the key's `kid`, hand-built because jose refuses to make one. */
function unsecured(key) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', kid: key.kid, typ: 'at+jwt' })}.${part(claimsFor(0))}.`
}

/**
 * Tokens for the sanity check, each with its expected outcome. `required` cases abort the benchmark when a
 * contender gets them wrong; the others are reported, because peers legitimately differ there (see
 * docs/benchmarks.md).
 */
export async function sanityCases(keys, alg, validToken) {
  const key = keys.get(alg)
  const otherAlg = alg === 'RS256' ? 'ES256' : 'RS256'
  const now = Math.floor(Date.now() / 1000)
  return [
    { name: 'valid', token: validToken, accept: true, required: true, signatureOnly: true },
    {
      name: 'flipped signature byte',
      token: flipSignatureByte(validToken),
      accept: false,
      required: true,
      signatureOnly: true,
    },
    {
      name: 'wrong iss',
      token: await mint(key, claimsFor(0, { iss: 'https://evil.example.com/' })),
      accept: false,
      required: true,
    },
    {
      name: 'wrong aud',
      token: await mint(key, claimsFor(0, { aud: 'https://other-api.example.com' })),
      accept: false,
      required: true,
    },
    {
      name: 'expired',
      token: await mint(key, claimsFor(0, { iat: now - 7200, exp: now - 3600 })),
      accept: false,
      required: true,
    },
    { name: 'alg none', token: unsecured(key), accept: false, required: true, signatureOnly: true },
    {
      name: 'no exp',
      token: await mint(key, claimsFor(0, { exp: undefined })),
      accept: false,
      required: false,
    },
    {
      name: 'alg outside the allow-list (key in the set)',
      token: await mint(keys.get(otherAlg), claimsFor(0)),
      accept: false,
      required: false,
    },
  ]
}
