/**
 * SHA-256 and HMAC-SHA256 for DPoP: `ath` (RFC 9449 §4.2), key thumbprints (RFC 7638) and nonces. On
 * Node (and Bun, Deno) through `node:crypto`, synchronously: a request's hashes cost a microsecond or two
 * and need not wait. Elsewhere through WebCrypto, which only answers asynchronously.
 *
 * `node:crypto` is reached with `process.getBuiltinModule`, as in signature.ts, so that this module
 * loads on runtimes without `node:` modules.
 */
import type * as NodeCrypto from 'node:crypto'
import { encodeBase64url } from '../lib/base64url.js'

const nodeCrypto: typeof NodeCrypto | undefined = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  try {
    return proc?.getBuiltinModule?.('node:crypto') as typeof NodeCrypto | undefined
  } catch {
    return undefined
  }
})()

/** Whether the `…Sync` functions are available (node:crypto). */
export const canDigestSync = nodeCrypto !== undefined

const utf8 = new TextEncoder()

/** base64url(SHA-256(UTF-8 of `text`)). Only where {@link canDigestSync}. */
export function sha256Sync(text: string): string {
  const crypto = nodeCrypto as typeof NodeCrypto
  // One-shot `hash` (Node 20.12+) avoids a Hash object per call.
  if (typeof crypto.hash === 'function') return crypto.hash('sha256', text, 'base64url')
  return crypto.createHash('sha256').update(text, 'utf8').digest('base64url')
}

/** base64url(SHA-256(UTF-8 of `text`)), on any runtime. */
export async function sha256(text: string): Promise<string> {
  if (canDigestSync) return sha256Sync(text)
  return encodeBase64url(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', utf8.encode(text))))
}

/** base64url(HMAC-SHA256(key, data)). Only where {@link canDigestSync}. */
export function hmacSha256Sync(key: Uint8Array, data: Uint8Array): string {
  return (nodeCrypto as typeof NodeCrypto).createHmac('sha256', key).update(data).digest('base64url')
}

/** base64url(HMAC-SHA256(key, data)), on any runtime. */
export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<string> {
  if (canDigestSync) return hmacSha256Sync(key, data)
  const { subtle } = globalThis.crypto
  const hmacKey = await subtle.importKey(
    'raw',
    key as Uint8Array<ArrayBuffer>,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return encodeBase64url(new Uint8Array(await subtle.sign('HMAC', hmacKey, data as Uint8Array<ArrayBuffer>)))
}
