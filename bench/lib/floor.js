/**
 * The reference points: what the signature check alone costs, with no parsing beyond locating the signing
 * input and decoding the signature, and no claim checks. No verifier can be faster than its crypto call, so
 * every other contender is reported as a ratio to `floor` on the same algorithm and workload.
 */
import { constants, verify } from 'node:crypto'

const HASH = { RS256: 'sha256', PS256: 'sha256', ES256: 'sha256', EdDSA: null }

/** The KeyObject plus the per-algorithm parameters JWS needs (RFC 7518 §3.3–3.5, RFC 8037 §3.1). */
function nodeVerifyKey(alg, keyObject) {
  if (alg === 'PS256') return { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
  // JWS ECDSA signatures are raw r||s, not DER (RFC 7518 §3.4).
  if (alg === 'ES256') return { key: keyObject, dsaEncoding: 'ieee-p1363' }
  return keyObject
}

/** WebCrypto parameters for the same algorithms. */
const WEB_PARAMS = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' },
}

function invalid() {
  throw new Error('invalid signature')
}

/** Split at the last dot: the signing input as bytes, the signature base64url-decoded. */
function split(token) {
  const dot = token.lastIndexOf('.')
  return [Buffer.from(token.slice(0, dot), 'latin1'), Buffer.from(token.slice(dot + 1), 'base64url')]
}

/** `crypto.verify` on the calling thread, key imported once. */
export function createFloor(alg, { keys }) {
  const hash = HASH[alg]
  const key = nodeVerifyKey(alg, keys.get(alg).keyObject)
  return (token) => {
    const [data, signature] = split(token)
    return verify(hash, data, key, signature) || invalid()
  }
}

/** `crypto.verify` with a callback: the check runs on libuv's thread pool, so several run at once. */
export function createFloorAsync(alg, { keys }) {
  const hash = HASH[alg]
  const key = nodeVerifyKey(alg, keys.get(alg).keyObject)
  return (token) => {
    const [data, signature] = split(token)
    return new Promise((resolve, reject) => {
      verify(hash, data, key, signature, (err, ok) =>
        ok ? resolve(true) : reject(err ?? new Error('invalid signature')),
      )
    })
  }
}

/**
 * WebCrypto's `subtle.verify` with a pre-imported CryptoKey: the floor of any WebCrypto-based verifier
 * (jose on Node, and Gatehouse's fallback on other runtimes). The gap to `floor` is why the hot path uses
 * node:crypto.
 */
export function createFloorWebCrypto(alg, { keys }) {
  const params = WEB_PARAMS[alg]
  const key = keys.get(alg).cryptoKey
  return async (token) => {
    const [data, signature] = split(token)
    return (await crypto.subtle.verify(params, key, signature, data)) || invalid()
  }
}
