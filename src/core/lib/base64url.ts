/**
 * Strict base64url (RFC 4648 §5, as RFC 7515 §2 requires): the URL-safe alphabet only, no padding, no
 * whitespace, and zero trailing bits, so every byte string has exactly one accepted spelling. Node's own
 * decoder is lenient (it skips bad characters and accepts padding), hence the checks here.
 */

const ALPHABET = /^[A-Za-z0-9_-]*$/
const VALUE: Record<string, number> = Object.create(null)
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries())
  VALUE[c] = i

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer

/** Whether `segment` is canonical base64url. */
export function isCanonicalBase64url(segment: string): boolean {
  if (!ALPHABET.test(segment)) return false
  const rest = segment.length % 4
  if (rest === 0) return true
  if (rest === 1) return false
  // The last character carries 4 (rest 2) or 2 (rest 3) bits that belong to no byte: they must be zero.
  const last = VALUE[segment[segment.length - 1] as string] as number
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0
}

/** Decode canonical base64url; undefined when not canonical. */
export function decodeBase64url(segment: string): Uint8Array | undefined {
  if (!isCanonicalBase64url(segment)) return undefined
  if (NodeBuffer) return NodeBuffer.from(segment, 'base64url')
  const binary = atob(segment.replace(/-/g, '+').replace(/_/g, '/'))
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/** Encode bytes as base64url without padding. */
export function encodeBase64url(bytes: Uint8Array): string {
  if (NodeBuffer)
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
