/**
 * The one place that touches a crypto API. On Node (and Bun / Deno, which implement it) the hot path uses
 * `node:crypto` directly: `crypto.verify` with a KeyObject is the measured floor (see docs/benchmarks.md),
 * and WebCrypto's `subtle.verify` costs several times more per call on Node. Elsewhere (Workers-style
 * runtimes), and where `node:crypto` refuses the calls made here (workerd with `nodejs_compat`), it falls
 * back to WebCrypto through jose's JWK import.
 *
 * `node:crypto` is reached with `process.getBuiltinModule` (Node >= 20.16) instead of a static import, so
 * this module loads on runtimes that have no `node:` modules at all.
 *
 * JWKs are imported with jose on every runtime (it validates the members); on Node the CryptoKey is
 * converted once to a KeyObject, which `crypto.verify` uses without WebCrypto's per-call overhead.
 * With `offload: true`, worker threads (offload.ts) call `crypto.verify` with the parameters given here.
 */
import type * as NodeCrypto from 'node:crypto'
import { importJWK } from 'jose'
import type { Algorithm, JWK } from '../types.js'
import { openSignaturePool, type PoolDriver } from './offload.js'

type NodeCryptoModule = typeof NodeCrypto

/** RFC 7515 §A.3's P-256 public key: what {@link takesKeyOptions} verifies with. */
const PROBE_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
}

/**
 * Whether `crypto.verify` takes a KeyObject inside its options, the form used here for ECDSA
 * (`dsaEncoding`) and RSA-PSS (`padding`). workerd's `node:crypto` throws a TypeError for it; Node, Bun
 * and Deno answer false for the all-zero signature. About a millisecond, once, at load.
 */
function takesKeyOptions(crypto: NodeCryptoModule): boolean {
  try {
    const key = crypto.createPublicKey({ key: PROBE_JWK, format: 'jwk' })
    crypto.verify('sha256', new Uint8Array(1), { key, dsaEncoding: 'ieee-p1363' }, new Uint8Array(64))
    return true
  } catch {
    return false
  }
}

const nodeCrypto: NodeCryptoModule | undefined = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  let crypto: NodeCryptoModule | undefined
  try {
    crypto = proc?.getBuiltinModule?.('node:crypto') as NodeCryptoModule | undefined
  } catch {
    return undefined
  }
  return crypto !== undefined && takesKeyOptions(crypto) ? crypto : undefined
})()

/** Which implementation is in use: 'node' (KeyObject + crypto.verify) or 'webcrypto'. */
export const cryptoRuntime: 'node' | 'webcrypto' = nodeCrypto ? 'node' : 'webcrypto'

/** The key family an algorithm needs (RFC 7518 §3.1 and RFC 8037). */
export function keyTypeFor(alg: Algorithm): { kty: 'RSA' | 'EC' | 'OKP'; crv?: string } {
  switch (alg) {
    case 'ES256':
      return { kty: 'EC', crv: 'P-256' }
    case 'ES384':
      return { kty: 'EC', crv: 'P-384' }
    case 'ES512':
      return { kty: 'EC', crv: 'P-521' }
    case 'EdDSA':
      return { kty: 'OKP', crv: 'Ed25519' }
    default:
      return { kty: 'RSA' }
  }
}

/** Length of a raw r||s ECDSA signature (RFC 7518 §3.4). */
const ecSignatureLength: Partial<Record<Algorithm, number>> = { ES256: 64, ES384: 96, ES512: 132 }
const hashFor: Record<Algorithm, string | null> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  EdDSA: null,
}

/** Smallest RSA modulus accepted (RFC 7518 §3.3, §3.5: 2048 bits or larger). */
export const MIN_RSA_BITS = 2048
/** Largest RSA modulus accepted: a verification's cost grows with the square of the modulus size or worse. */
export const MAX_RSA_BITS = 8192
/**
 * Largest RSA public exponent accepted: 2^32 − 1. With it a verification costs under twice what 65537
 * costs; a 2040-bit exponent costs dozens of times more. 65537 and 3 are what providers publish.
 */
export const MAX_RSA_EXPONENT = 0xffff_ffffn

/**
 * Import a public JWK for `alg`. Throws an Error with a reason when the key is unusable: wrong type, a
 * private key, an RSA modulus under 2048 or over 8192 bits, an RSA public exponent that is even, under 3
 * or over 2^32 − 1. The result is cached by the caller (keys are imported once).
 */
export async function importVerificationKey(jwk: JWK, alg: Algorithm): Promise<unknown> {
  if (jwk.d !== undefined) throw new Error('the key set publishes a private key; refusing to use it')
  // jose parses and validates the JWK (RFC 7517/7518 members) for every runtime.
  const key = await importJWK(publicMembers(jwk), alg)
  if (key instanceof Uint8Array) throw new Error('symmetric keys are never used')
  if (nodeCrypto) return checkNodeKey(nodeCrypto.KeyObject.from(key), alg)
  if (alg.startsWith('RS') || alg.startsWith('PS')) {
    const { modulusLength, publicExponent } = key.algorithm as RsaHashedKeyAlgorithm
    let exponent = 0n
    for (const byte of publicExponent) exponent = (exponent << 8n) | BigInt(byte)
    checkRsaBounds(modulusLength, exponent)
  }
  return key
}

/** A KeyObject (alg-agnostic, what `crypto.verify` takes fastest) after the checks WebCrypto leaves to us. */
function checkNodeKey(key: NodeCrypto.KeyObject, alg: Algorithm): NodeCrypto.KeyObject {
  const details = key.asymmetricKeyDetails ?? {}
  const { kty, crv } = keyTypeFor(alg)
  if (kty === 'RSA') {
    if (key.asymmetricKeyType !== 'rsa') throw new Error(`${alg} needs an RSA key`)
    checkRsaBounds(details.modulusLength ?? 0, details.publicExponent ?? 0n)
  } else if (kty === 'EC') {
    const curve = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' }[crv as string]
    if (key.asymmetricKeyType !== 'ec' || details.namedCurve !== curve)
      throw new Error(`${alg} needs a ${crv} key`)
  } else if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${alg} needs an Ed25519 key`)
  }
  return key
}

/** RSA keys whose verification cost is bounded: 2048–8192-bit modulus, small odd public exponent. */
function checkRsaBounds(bits: number, exponent: bigint): void {
  if (bits < MIN_RSA_BITS) throw new Error(`RSA key of ${bits} bits is under the ${MIN_RSA_BITS}-bit minimum`)
  if (bits > MAX_RSA_BITS) throw new Error(`RSA key of ${bits} bits is over the ${MAX_RSA_BITS}-bit maximum`)
  if (exponent < 3n || exponent > MAX_RSA_EXPONENT || exponent % 2n === 0n) {
    const shown = exponent.toString(2).length > 32 ? `a ${exponent.toString(2).length}-bit value` : exponent
    throw new Error(`RSA public exponent ${shown} is refused: expected an odd number from 3 to 2^32 - 1`)
  }
}

/** Only the members that describe a public key go to the importer (no `d`, no `x5c`, no `key_ops` quirks). */
function publicMembers(jwk: JWK): JWK {
  const { kty, crv, n, e, x, y } = jwk
  const out: JWK = { kty }
  if (crv !== undefined) out.crv = crv
  if (n !== undefined) out.n = n
  if (e !== undefined) out.e = e
  if (x !== undefined) out.x = x
  if (y !== undefined) out.y = y
  return out
}

function nodeVerifyKey(
  alg: Algorithm,
  key: NodeCrypto.KeyObject,
): NodeCrypto.VerifyKeyObjectInput | NodeCrypto.KeyObject {
  if (alg.startsWith('PS')) {
    // RFC 7518 §3.5: salt length equals the hash output length.
    const saltLength = alg === 'PS256' ? 32 : alg === 'PS384' ? 48 : 64
    return { key, padding: nodeCrypto!.constants.RSA_PKCS1_PSS_PADDING, saltLength }
  }
  // JWS ECDSA signatures are raw r||s (RFC 7518 §3.4), never DER.
  if (alg.startsWith('ES')) return { key, dsaEncoding: 'ieee-p1363' }
  return key
}

/** Cheap checks that need no crypto: an ECDSA signature must be exactly r||s long. */
function signatureShapeOk(alg: Algorithm, signature: Uint8Array): boolean {
  const len = ecSignatureLength[alg]
  if (len !== undefined) return signature.length === len
  if (alg === 'EdDSA') return signature.length === 64
  return signature.length > 0
}

/** Whether synchronous verification is available (Node's crypto). */
export const canVerifySync = nodeCrypto !== undefined

/** Verify on the calling thread. Only with node:crypto. */
export function verifySync(alg: Algorithm, key: unknown, data: Uint8Array, signature: Uint8Array): boolean {
  if (!signatureShapeOk(alg, signature)) return false
  return nodeCrypto!.verify(hashFor[alg], data, nodeVerifyKey(alg, key as NodeCrypto.KeyObject), signature)
}

/**
 * Verify asynchronously: WebCrypto where node:crypto is missing; on Node, node:crypto's callback form
 * (libuv's thread pool). `offload: true` uses it only where worker threads are missing (`openOffload`).
 */
export function verifyAsync(
  alg: Algorithm,
  key: unknown,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (!signatureShapeOk(alg, signature)) return Promise.resolve(false)
  if (nodeCrypto) {
    const crypto = nodeCrypto
    return new Promise((resolve) => {
      crypto.verify(
        hashFor[alg],
        data,
        nodeVerifyKey(alg, key as NodeCrypto.KeyObject),
        signature,
        (err, ok) => resolve(!err && ok),
      )
    })
  }
  return crypto.subtle.verify(
    webAlgorithm(alg),
    key as CryptoKey,
    signature as Uint8Array<ArrayBuffer>,
    data as Uint8Array<ArrayBuffer>,
  )
}

/** Signature checks for `offload: true`. `verify` answers now (checked inline) or later; never rejects. */
export interface OffloadedVerifier {
  verify(alg: Algorithm, key: unknown, data: Uint8Array, signature: Uint8Array): boolean | Promise<boolean>
  /** Release the worker threads (they stop with their last user). Idempotent. */
  close(): void
}

/** What the worker pool needs from this module: the inline check, and a key as bytes plus parameters. */
const poolDriver: PoolDriver<NodeCrypto.KeyObject> = {
  verifyInline: (alg, key, data, signature) => verifySync(alg as Algorithm, key, data, signature),
  describe(alg, key) {
    const input = nodeVerifyKey(alg as Algorithm, key)
    const { key: _key, ...options } = input === key ? { key } : (input as NodeCrypto.VerifyKeyObjectInput)
    return {
      spki: key.export({ type: 'spki', format: 'der' }),
      hash: hashFor[alg as Algorithm],
      options: options as Record<string, number | string>,
    }
  },
}

/**
 * Off-thread signature checks: on Node, worker threads fed through shared memory (see offload.ts, and
 * docs/benchmarks.md for when they pay); without worker threads, `verifyAsync`.
 */
export function openOffload(): OffloadedVerifier {
  const pool = nodeCrypto ? openSignaturePool(poolDriver) : undefined
  if (pool === undefined) return { verify: verifyAsync, close() {} }
  return {
    verify: (alg, key, data, signature) =>
      signatureShapeOk(alg, signature) && pool.verify(alg, key as NodeCrypto.KeyObject, data, signature),
    close: () => pool.close(),
  }
}

function webAlgorithm(alg: Algorithm): AlgorithmIdentifier | RsaPssParams | EcdsaParams {
  const hash = `SHA-${alg.slice(-3)}`
  if (alg.startsWith('RS')) return { name: 'RSASSA-PKCS1-v1_5' }
  if (alg.startsWith('PS')) return { name: 'RSA-PSS', saltLength: Number(alg.slice(-3)) / 8 } as RsaPssParams
  if (alg.startsWith('ES')) return { name: 'ECDSA', hash } as EcdsaParams
  return { name: 'Ed25519' }
}
