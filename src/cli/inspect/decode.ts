/**
 * Decoding a token WITHOUT trusting it, to show what it says before the verifier judges it. Lenient on
 * purpose (it must show as much as it can of a broken token); the verdict is the verifier's alone.
 */

export type Decoded =
  | { kind: 'jws'; header: Record<string, unknown>; claims: Record<string, unknown> }
  | { kind: 'jwe'; header: Record<string, unknown> | undefined }
  | { kind: 'opaque' }
  | { kind: 'malformed'; problem: string; header?: Record<string, unknown> }

/**
 * What the token looks like. Accepts what people paste: surrounding whitespace and a `Bearer ` prefix
 * are removed by {@link cleanToken} first.
 */
export function decodeUntrusted(token: string): Decoded {
  const parts = token.split('.')
  if (parts.length === 1) return { kind: 'opaque' }
  if (parts.length === 5) return { kind: 'jwe', header: json(parts[0]!) }
  if (parts.length !== 3) {
    return { kind: 'malformed', problem: `a JWT has 3 parts separated by dots; this has ${parts.length}` }
  }
  const header = json(parts[0]!)
  if (header === undefined)
    return { kind: 'malformed', problem: 'the header (part 1) is not base64url-encoded JSON' }
  const claims = json(parts[1]!)
  if (claims === undefined) {
    return { kind: 'malformed', problem: 'the payload (part 2) is not base64url-encoded JSON', header }
  }
  return { kind: 'jws', header, claims }
}

/** Strip whitespace (line breaks from copying) and an `Authorization: Bearer ` prefix. */
export function cleanToken(input: string): string {
  return input
    .trim()
    .replace(/^authorization:\s*/i, '')
    .replace(/^bearer\s+/i, '')
    .replace(/\s+/g, '')
}

function json(segment: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) return undefined
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined
  } catch {
    return undefined
  }
}
