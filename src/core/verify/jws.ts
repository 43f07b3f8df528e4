/**
 * Parsing of a JWS in compact serialization (RFC 7515 §7.1) into a header, a payload and a signature,
 * before anything is trusted. Strict on purpose: exactly three parts, canonical base64url, UTF-8 JSON
 * objects nested at most {@link MAX_JSON_DEPTH} levels, no unknown `crit` extension, no unencoded payload
 * (RFC 7797). The header members `jku`, `x5u`, `jwk` and `x5c` are never read: keys come only from the
 * configured key set.
 */

import { type CheckCause, forLog, GatehouseError } from '../errors.js'
import { decodeBase64url } from '../lib/base64url.js'
import { ALL_ALGORITHMS, type Algorithm, type JWTClaims, type ProtectedHeader } from '../types.js'

export interface ParsedJWS {
  header: ProtectedHeader
  payload: JWTClaims
  /** ASCII bytes of `header.payload`: what the signature covers. */
  signingInput: Uint8Array
  signature: Uint8Array
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const KNOWN_ALGORITHMS: ReadonlySet<string> = new Set(ALL_ALGORITHMS)
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer
const ascii = new TextEncoder()

/**
 * Deepest nesting of objects and arrays accepted in a header or a payload, the top-level object counting
 * as one. RFC 8259 §9 lets a parser limit it; real tokens nest three or four levels (Keycloak's
 * `resource_access.<client>.roles`), and anything that walks claims (freezing, logging, `JSON.stringify`)
 * stays far from the call stack's limit.
 */
export const MAX_JSON_DEPTH = 32

function malformed(description: string, cause?: unknown): GatehouseError {
  return new GatehouseError('ERR_JWT_MALFORMED', description, cause === undefined ? {} : { cause })
}

/** Whether valid JSON `text` nests objects and arrays deeper than `max`. */
function nestsDeeper(text: string, max: number): boolean {
  // Cheap bound first (native scans): fewer brackets than the limit cannot nest deeper than it.
  let brackets = 0
  for (let i = text.indexOf('{'); i !== -1 && brackets <= max; i = text.indexOf('{', i + 1)) brackets++
  for (let i = text.indexOf('['); i !== -1 && brackets <= max; i = text.indexOf('[', i + 1)) brackets++
  if (brackets <= max) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: the next character is escaped
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    }
  }
  return false
}

function decodeJsonObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  const bytes = decodeBase64url(segment)
  if (bytes === undefined) throw malformed(`Token ${part} is not canonical base64url`)
  let value: unknown
  let text: string
  try {
    text = utf8.decode(bytes)
    value = JSON.parse(text)
  } catch (error) {
    // Not the parser's message: it quotes the decoded text, which would reach logs through `cause`.
    throw malformed(`Token ${part} is not UTF-8 JSON`, { part, reason: (error as Error).name })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`Token ${part} is not a JSON object`)
  }
  if (nestsDeeper(text, MAX_JSON_DEPTH)) {
    throw malformed(`Token ${part} nests deeper than ${MAX_JSON_DEPTH} levels`, {
      part,
      maxDepth: MAX_JSON_DEPTH,
    })
  }
  return value as Record<string, unknown>
}

/** Validate the members of a header that every verifier cares about, whatever its policy. */
function checkHeader(raw: Record<string, unknown>): ProtectedHeader {
  const { alg, kid, typ, crit, b64 } = raw
  if (typeof alg !== 'string')
    throw new GatehouseError('ERR_JWT_HEADER_INVALID', 'Token header lacks "alg"', {
      cause: { header: 'alg', received: forLog(alg) } satisfies CheckCause,
    })
  // `none` and HS* are never acceptable from a JWKS (RFC 8725 §3.1, §3.2): a public key is no HMAC secret.
  if (!KNOWN_ALGORITHMS.has(alg))
    throw new GatehouseError('ERR_JWT_ALG_NOT_ALLOWED', undefined, {
      cause: { header: 'alg', received: forLog(alg), expected: ALL_ALGORITHMS } satisfies CheckCause,
    })
  if (kid !== undefined && typeof kid !== 'string') {
    throw new GatehouseError('ERR_JWT_HEADER_INVALID', 'Token header "kid" is not a string', {
      cause: { header: 'kid', received: forLog(kid) } satisfies CheckCause,
    })
  }
  if (typ !== undefined && typeof typ !== 'string') {
    throw new GatehouseError('ERR_JWT_HEADER_INVALID', 'Token header "typ" is not a string', {
      cause: { header: 'typ', received: forLog(typ) } satisfies CheckCause,
    })
  }
  // RFC 7515 §4.1.11: a recipient MUST reject a JWS whose `crit` lists an extension it does not
  // understand. Gatehouse understands none, so any `crit` is a rejection (as is a malformed one).
  if (crit !== undefined)
    throw new GatehouseError('ERR_JWT_HEADER_INVALID', 'Token header "crit" is not supported', {
      cause: { header: 'crit', received: forLog(crit) } satisfies CheckCause,
    })
  // RFC 7797 unencoded payloads change what is signed; only meaningful with `crit`, refused outright.
  if (b64 !== undefined)
    throw new GatehouseError('ERR_JWT_HEADER_INVALID', 'Token header "b64" is not supported', {
      cause: { header: 'b64', received: forLog(b64) } satisfies CheckCause,
    })
  // Shared by every token with this header segment (see the cache below): frozen all the way down.
  return deepFreeze({ ...raw, alg: alg as Algorithm }) as ProtectedHeader
}

/**
 * Freeze an object and everything it holds (JSON values: no cycles). Iterative, so that no nesting can
 * exhaust the call stack.
 */
export function deepFreeze<T>(value: T): T {
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const item = pending.pop()
    if (typeof item !== 'object' || item === null || Object.isFrozen(item)) continue
    Object.freeze(item)
    for (const member of Object.values(item)) pending.push(member)
  }
  return value
}

/**
 * Header segments repeat across tokens (same alg, kid and typ for every token of an issuer), so their
 * parsed form is cached: bounded, and only headers that passed `checkHeader` are stored.
 */
const HEADER_CACHE_MAX = 256
const headerCache = new Map<string, ProtectedHeader>()

function parseHeader(segment: string): ProtectedHeader {
  const cached = headerCache.get(segment)
  if (cached !== undefined) return cached
  const header = checkHeader(decodeJsonObject(segment, 'header'))
  if (headerCache.size >= HEADER_CACHE_MAX) headerCache.clear()
  headerCache.set(segment, header)
  return header
}

/**
 * Split and decode a compact JWS. Throws ERR_JWT_MALFORMED, ERR_JWT_HEADER_INVALID or
 * ERR_JWT_ALG_NOT_ALLOWED. Does NOT check the signature, the algorithm allow-list of a verifier, or claims.
 */
export function parseCompactJWS(token: string, maxLength: number): ParsedJWS {
  if (token.length > maxLength) throw malformed('Token is too long')
  const first = token.indexOf('.')
  const second = first === -1 ? -1 : token.indexOf('.', first + 1)
  if (second === -1 || token.indexOf('.', second + 1) !== -1) throw malformed('Token must have three parts')
  const headerSegment = token.slice(0, first)
  const payloadSegment = token.slice(first + 1, second)
  const signatureSegment = token.slice(second + 1)
  if (headerSegment === '' || payloadSegment === '' || signatureSegment === '') {
    throw malformed('Token has an empty part')
  }
  const header = parseHeader(headerSegment)
  const payload = decodeJsonObject(payloadSegment, 'payload') as JWTClaims
  const signature = decodeBase64url(signatureSegment)
  if (signature === undefined) throw malformed('Token signature is not canonical base64url')
  const input = token.slice(0, second)
  // The segments are validated base64url, hence ASCII: latin1 is a byte-for-byte copy.
  const signingInput = NodeBuffer ? NodeBuffer.from(input, 'latin1') : ascii.encode(input)
  return { header, payload, signingInput, signature }
}
