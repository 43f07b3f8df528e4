/**
 * `gatehouse/testing`: real tokens for your tests.
 *
 * - {@link startDevIssuer}: a real authorization server on 127.0.0.1 (discovery, JWKS, token endpoint),
 *   for end-to-end and integration tests.
 * - {@link createTestKeys} and {@link mintToken}: a key pair and signed tokens in memory, for unit tests
 *   that need no HTTP at all (pass `keys: testKeys.jwks` to the verifier).
 *
 * Development and tests only: nothing here belongs in production code.
 */
import { randomUUID } from 'node:crypto'
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK as JoseJWK } from 'jose'
import type { Algorithm, JWK, JWKS } from '../core/types.js'
import { ALL_ALGORITHMS } from '../core/types.js'
import { signToken } from '../dev-issuer/tokens.js'

export {
  DEFAULT_AUDIENCE,
  type DevAlgorithm,
  type DevClient,
  type DevIssuer,
  type DevIssuerOptions,
  type MintOptions,
  startDevIssuer,
} from '../dev-issuer/index.js'

/** A key pair for unit tests. */
export interface TestKeys {
  /** The algorithm the pair is for. */
  alg: Algorithm
  /** The RFC 7638 thumbprint of the public key, used as `kid`. */
  kid: string
  /** The private key (WebCrypto, extractable). Signs with {@link mintToken}. */
  privateKey: CryptoKey
  /** The private key as a JWK (for forging tokens by hand). Never publish it. */
  privateJwk: JoseJWK
  /** The public key as a JWK with `kid`, `alg` and `use: "sig"`. */
  publicJwk: JWK
  /** `{ keys: [publicJwk] }`: pass it as the verifier's `keys` option. */
  jwks: JWKS
}

/**
 * Generate a key pair for `alg` (default `'RS256'`; RSA keys are 2048 bits, EC keys on the algorithm's curve,
 * EdDSA on Ed25519).
 *
 * @example
 * ```ts
 * const keys = await createTestKeys()
 * const verifier = createVerifier({ issuer: 'https://issuer.test', audience: 'api', keys: keys.jwks })
 * const token = await mintToken(keys, { iss: 'https://issuer.test', aud: 'api', sub: 'alice' })
 * await verifier.verify(token)
 * ```
 * @throws TypeError for an algorithm Gatehouse does not verify (HS256, none…).
 */
export async function createTestKeys(alg: Algorithm = 'RS256'): Promise<TestKeys> {
  if (!ALL_ALGORITHMS.includes(alg)) {
    throw new TypeError(`alg: expected one of ${ALL_ALGORITHMS.join(', ')}, got ${JSON.stringify(alg)}`)
  }
  const options =
    alg.startsWith('RS') || alg.startsWith('PS')
      ? { extractable: true, modulusLength: 2048 }
      : { extractable: true }
  const { privateKey, publicKey } = await generateKeyPair(alg, options)
  const privateJwk = await exportJWK(privateKey)
  const exported = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(exported, 'sha256')
  const publicJwk: JWK = { ...(exported as JWK), kid, alg, use: 'sig' }
  return { alg, kid, privateKey, privateJwk, publicJwk, jwks: { keys: [publicJwk] } }
}

/** Options of {@link mintToken}. */
export interface MintTokenOptions {
  /**
   * Lifetime in seconds, used when `claims` has no `exp`: `exp = now + expiresIn`. Negative gives an expired
   * token. Default 300.
   */
  expiresIn?: number
  /** Merged over `{ alg, typ: "at+jwt", kid }`; `undefined` removes a member. See the forgery notes below. */
  header?: Record<string, unknown>
  /** The clock in milliseconds (for `iat` and `exp`). Default `Date.now()`. */
  now?: number
}

/**
 * Sign an access token with test keys. `iat`, `exp` and `jti` are added unless `claims` sets them (set a
 * claim to `undefined` to leave it out entirely). Nothing else is added: `iss`, `aud` and `sub` are yours.
 *
 * Forgeries: `header: { alg: 'none' }` gives an unsigned token; any other `header.alg` that differs from
 * the key's gives a token signed with the key's real algorithm under a lying header; `header: { kid:
 * 'other' }` a token whose kid is unknown.
 *
 * @example
 * ```ts
 * const expired = await mintToken(keys, { iss, aud, sub: 'alice' }, { expiresIn: -60 })
 * const noKid = await mintToken(keys, { iss, aud }, { header: { kid: undefined } })
 * ```
 */
export async function mintToken(
  keys: TestKeys,
  claims: Record<string, unknown> = {},
  options: MintTokenOptions = {},
): Promise<string> {
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  const exp = now + (options.expiresIn ?? 300)
  const defaults = { iat: Math.min(now, exp - 1), exp, jti: randomUUID() }
  return signToken(
    { alg: keys.alg, kid: keys.kid, privateKey: keys.privateKey, privateJwk: keys.privateJwk },
    { ...defaults, ...claims },
    options.header,
  )
}
