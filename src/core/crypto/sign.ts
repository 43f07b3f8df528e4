/**
 * Signing, for the one JWT Gatehouse itself writes: a client assertion (RFC 7523 §2.2, `private_key_jwt`)
 * that authenticates the resource server to an authorization server. jose signs, on `node:crypto` or
 * WebCrypto as the runtime offers; a request signs at most once per introspection call, so the
 * measured fast path of signature.ts is not needed here.
 *
 * The key's form is checked at construction ({@link checkSigningKey}); it is imported at its first use,
 * and a key that the runtime refuses then makes every signing attempt fail with the import's error.
 */
import { CompactSign, importJWK } from 'jose'
import { encodeBase64url } from '../lib/base64url.js'
import { describe, isPlainObject } from '../lib/values.js'
import { ALL_ALGORITHMS, type Algorithm, type JWK } from '../types.js'
import { keyTypeFor } from './signature.js'

/** A Node KeyObject, as far as this module reads it. */
export interface KeyObjectLike {
  readonly type: string
  readonly asymmetricKeyType?: string
}

/** A private key: a private JWK (with `d`), a WebCrypto CryptoKey, or a Node KeyObject. */
export type SigningKeyInput = JWK | CryptoKey | KeyObjectLike

/** A key checked for signing with `alg`. */
export interface SigningKey {
  readonly alg: Algorithm
  /** The JWK's `kid`, sent in the JWS header; undefined for a CryptoKey or KeyObject. */
  readonly kid: string | undefined
  readonly input: SigningKeyInput
}

/** `asymmetricKeyType` of a KeyObject for each key type (an RSA-PSS key signs PS* only). */
const NODE_TYPES: Record<'RSA' | 'EC' | 'OKP', readonly string[]> = {
  RSA: ['rsa'],
  EC: ['ec'],
  OKP: ['ed25519'],
}

/**
 * Check a private key for `alg` (the key's own `alg` member when `alg` is left out).
 *
 * @param option the option's name, for messages (`privateKey`).
 * @throws TypeError naming the option: a public or symmetric key, a JWK whose `kty`, `crv` or `alg` does
 *   not fit `alg`, an algorithm that is not an asymmetric JWS algorithm.
 */
export function checkSigningKey(option: string, key: unknown, alg: unknown): SigningKey {
  const named = alg ?? (isPlainObject(key) ? key.alg : undefined)
  if (typeof named !== 'string' || !(ALL_ALGORITHMS as readonly string[]).includes(named))
    throw new TypeError(
      `${option}: expected an alg among ${ALL_ALGORITHMS.join(', ')} (the alg option or the JWK’s alg), got ${describe(named)}`,
    )
  const algorithm = named as Algorithm
  const { kty, crv } = keyTypeFor(algorithm)
  if (isCryptoKey(key)) {
    if (key.type !== 'private') throw new TypeError(`${option}: expected a private CryptoKey`)
    return { alg: algorithm, kid: undefined, input: key }
  }
  if (isKeyObject(key)) {
    if (key.type !== 'private') throw new TypeError(`${option}: expected a private KeyObject`)
    const type = key.asymmetricKeyType ?? ''
    if (!(NODE_TYPES[kty].includes(type) || (type === 'rsa-pss' && algorithm.startsWith('PS'))))
      throw new TypeError(`${option}: ${algorithm} needs an ${kty} private key, got ${describe(type)}`)
    return { alg: algorithm, kid: undefined, input: key }
  }
  if (!isPlainObject(key) || typeof key.kty !== 'string')
    throw new TypeError(`${option}: expected a private JWK, a CryptoKey or a KeyObject`)
  const jwk = key as JWK
  if (jwk.kty !== kty || (crv !== undefined && jwk.crv !== crv))
    throw new TypeError(
      `${option}: ${algorithm} needs kty ${kty}${crv === undefined ? '' : ` and crv ${crv}`}, got kty ${describe(jwk.kty)}`,
    )
  // RFC 7518 §6.2.2, §6.3.2 and RFC 8037 §2: `d` is the private member of EC, RSA and OKP keys.
  if (typeof jwk.d !== 'string') throw new TypeError(`${option}: expected a private JWK (with "d")`)
  if (jwk.alg !== undefined && jwk.alg !== algorithm)
    throw new TypeError(`${option}: the JWK’s alg ${describe(jwk.alg)} differs from alg ${algorithm}`)
  const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined
  return { alg: algorithm, kid, input: jwk }
}

/**
 * A function that signs a JSON payload as a compact JWS with `key`: header `alg`, `kid` when the key has
 * one, and `extraHeader`. The key is imported once, at the first call.
 */
export function createJwsSigner(
  key: SigningKey,
  extraHeader: Record<string, string> = {},
): (payload: Record<string, unknown>) => Promise<string> {
  let imported: Promise<unknown> | undefined
  const header = { ...extraHeader, alg: key.alg, ...(key.kid === undefined ? {} : { kid: key.kid }) }
  const utf8 = new TextEncoder()
  return async (payload) => {
    imported ??=
      isCryptoKey(key.input) || isKeyObject(key.input)
        ? Promise.resolve(key.input)
        : importJWK(key.input as JWK, key.alg)
    const handle = (await imported) as Parameters<CompactSign['sign']>[0]
    return new CompactSign(utf8.encode(JSON.stringify(payload))).setProtectedHeader(header).sign(handle)
  }
}

/** 128 random bits, base64url: a `jti` no one can guess or repeat by chance. */
export function randomId(): string {
  return encodeBase64url(globalThis.crypto.getRandomValues(new Uint8Array(16)))
}

function isCryptoKey(key: unknown): key is CryptoKey {
  return typeof CryptoKey === 'function' && key instanceof CryptoKey
}

function isKeyObject(key: unknown): key is KeyObjectLike {
  return (
    typeof key === 'object' &&
    key !== null &&
    typeof (key as { type?: unknown }).type === 'string' &&
    typeof (key as { export?: unknown }).export === 'function' &&
    !isCryptoKey(key)
  )
}
