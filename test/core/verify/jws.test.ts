/**
 * parseCompactJWS (RFC 7515 §7.1 compact serialization): every shape rule with the code it must raise.
 * No signatures are checked here (see verify.test.ts); the third segment is any canonical base64url.
 */
import { describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { deepFreeze, MAX_JSON_DEPTH, parseCompactJWS } from '../../../src/core/verify/jws.js'
import { b64url, nonCanonicalTail, type Segment } from '../../helpers/tokens.js'

const MAX = 16_384
const SIG = b64url('a signature of some bytes!') // 26 bytes: 35 characters, so it has unused bits
const HEADER = { alg: 'RS256', kid: 'k1' }
const PAYLOAD = { iss: 'https://issuer.example.com/', sub: 'u', exp: 2_000_000_000 }

function token(header: Segment = HEADER, payload: Segment = PAYLOAD, signature = SIG): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`
}

function codeOf(input: string, max = MAX): string {
  try {
    parseCompactJWS(input, max)
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError)
    return (error as GatehouseError).code
  }
  return 'ACCEPTED'
}

const bytes = (...values: number[]) => new Uint8Array(values)
const utf8 = (text: string) => new TextEncoder().encode(text)
const concat = (...chunks: Uint8Array[]) => Uint8Array.from(chunks.flatMap((chunk) => [...chunk]))

describe('parseCompactJWS: a well-formed token', () => {
  it('returns the header, the payload, the signing input and the signature bytes', () => {
    const input = token()
    const parsed = parseCompactJWS(input, MAX)
    expect(parsed.header).toEqual(HEADER)
    expect(parsed.payload).toEqual(PAYLOAD)
    const [h, p] = input.split('.')
    expect(Buffer.from(parsed.signingInput).toString('latin1')).toBe(`${h}.${p}`)
    expect(Buffer.from(parsed.signature).toString()).toBe('a signature of some bytes!')
  })

  it('returns a frozen header, so a caller cannot alter what the next token with the same header gets', () => {
    const first = parseCompactJWS(token(), MAX).header
    expect(Object.isFrozen(first)).toBe(true)
    expect(() => {
      ;(first as Record<string, unknown>).kid = 'changed'
    }).toThrow(TypeError)
    expect(parseCompactJWS(token(), MAX).header.kid).toBe('k1')
  })

  it('parses but never interprets jku, x5u, jwk and x5c (keys come only from the key set)', () => {
    const header = {
      ...HEADER,
      jku: 'https://evil.example/jwks',
      x5u: 'https://evil.example/x5u',
      jwk: { kty: 'RSA' },
      x5c: ['AA'],
    }
    expect(codeOf(token(header))).toBe('ACCEPTED')
  })

  it('accepts a token of exactly maxLength characters', () => {
    const input = token()
    expect(codeOf(input, input.length)).toBe('ACCEPTED')
  })
})

describe('parseCompactJWS: the compact shape (ERR_JWT_MALFORMED)', () => {
  const [h, p] = token().split('.') as [string, string]
  /** Standard base64 padding; at least one '=' (every segment used here has unused bits). */
  const pad = (segment: string) => {
    if (segment.length % 4 === 0) throw new Error('this segment needs no padding')
    return segment + '='.repeat(4 - (segment.length % 4))
  }
  it.each([
    ['an empty string', ''],
    ['one part', h],
    ['two parts', `${h}.${p}`],
    ['two parts with a trailing dot', `${h}.${p}.`],
    ['four parts', `${h}.${p}.${SIG}.${SIG}`],
    ['five parts (JWE compact)', `${h}.${p}.${SIG}.${SIG}.${SIG}`],
    ['an empty header', `.${p}.${SIG}`],
    ['an empty payload (detached content, RFC 7515 Appendix F)', `${h}..${SIG}`],
    ['an empty signature (unsecured JWS)', `${h}.${p}.`],
    ['only dots', '..'],
    ['padding on the header', `${pad(h)}.${p}.${SIG}`],
    ['padding on the payload', `${h}.${pad(p)}.${SIG}`],
    ['padding on the signature', `${h}.${p}.${SIG}=`],
    ['"+" in the signature', `${h}.${p}.${SIG.slice(0, -2)}+A`],
    ['"/" in the payload', `${h}.${p.slice(0, 4)}/${p.slice(5)}.${SIG}`],
    ['a leading space', ` ${h}.${p}.${SIG}`],
    ['a trailing newline', `${h}.${p}.${SIG}\n`],
    ['a space inside the payload', `${h}.${p.slice(0, 8)} ${p.slice(8)}.${SIG}`],
    ['a tab before the signature', `${h}.${p}.\t${SIG}`],
    ['a non-ASCII character', `${h}.${p}.${SIG}é`],
    ['non-canonical trailing bits in the signature', `${h}.${p}.${nonCanonicalTail(SIG)}`],
  ])('rejects %s', (_why, input) => {
    expect(codeOf(input)).toBe('ERR_JWT_MALFORMED')
  })

  it('rejects non-canonical trailing bits in the header and in the payload', () => {
    // Headers/payloads whose encoding has unused bits (length % 4 of 2 or 3).
    const header = { alg: 'RS256', kid: 'k' }
    const payload = { iss: 'x', exp: 1 }
    const [hh, pp] = token(header, payload).split('.') as [string, string]
    expect(hh.length % 4).not.toBe(0)
    expect(pp.length % 4).not.toBe(0)
    expect(codeOf(`${hh}.${pp}.${SIG}`)).toBe('ACCEPTED')
    expect(codeOf(`${nonCanonicalTail(hh)}.${pp}.${SIG}`)).toBe('ERR_JWT_MALFORMED')
    expect(codeOf(`${hh}.${nonCanonicalTail(pp)}.${SIG}`)).toBe('ERR_JWT_MALFORMED')
  })

  it('rejects a token longer than maxLength before decoding anything', () => {
    const input = token()
    expect(codeOf(input, input.length - 1)).toBe('ERR_JWT_MALFORMED')
    expect(codeOf('x'.repeat(100), 99)).toBe('ERR_JWT_MALFORMED')
  })

  it.each<[string, Segment]>([
    ['not JSON', 'not json'],
    ['truncated JSON', '{"alg":"RS256"'],
    ['a JSON array', ['RS256']],
    ['a JSON string', '"RS256"'],
    ['a JSON number', '42'],
    ['JSON null', 'null'],
    ['JSON true', 'true'],
    [
      'invalid UTF-8 (a lone 0xff byte in a string)',
      concat(utf8('{"alg":"RS256","kid":"'), bytes(0xff), utf8('"}')),
    ],
    [
      'invalid UTF-8 (an overlong encoding of "/")',
      concat(utf8('{"alg":"RS256","kid":"'), bytes(0xc0, 0xaf), utf8('"}')),
    ],
    [
      'invalid UTF-8 (a UTF-16 surrogate encoded in UTF-8)',
      concat(utf8('{"alg":"RS256","kid":"'), bytes(0xed, 0xa0, 0x80), utf8('"}')),
    ],
    ['a UTF-8 byte order mark', concat(bytes(0xef, 0xbb, 0xbf), utf8('{"alg":"RS256"}'))],
  ])('rejects a header that is %s', (_why, header) => {
    expect(codeOf(token(header))).toBe('ERR_JWT_MALFORMED')
  })

  it.each<[string, Segment]>([
    ['not JSON', 'Payload'],
    ['a JSON array', [{ iss: 'x' }]],
    ['a JSON string', '"hello"'],
    ['JSON null', 'null'],
    ['invalid UTF-8', concat(utf8('{"sub":"'), bytes(0xfe), utf8('"}'))],
    ['a UTF-8 byte order mark', concat(bytes(0xef, 0xbb, 0xbf), utf8('{"iss":"x"}'))],
  ])('rejects a payload that is %s', (_why, payload) => {
    expect(codeOf(token(HEADER, payload))).toBe('ERR_JWT_MALFORMED')
  })

  it('accepts valid multi-byte UTF-8 in the payload', () => {
    expect(parseCompactJWS(token(HEADER, { ...PAYLOAD, name: 'Zoë 🦊' }), MAX).payload.name).toBe('Zoë 🦊')
  })
})

describe('parseCompactJWS: header members', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['no alg', { kid: 'k1' }, 'ERR_JWT_HEADER_INVALID'],
    ['a numeric alg', { alg: 256 }, 'ERR_JWT_HEADER_INVALID'],
    ['alg none', { alg: 'none' }, 'ERR_JWT_ALG_NOT_ALLOWED'],
    ['alg None (case variant)', { alg: 'None' }, 'ERR_JWT_ALG_NOT_ALLOWED'],
    ['alg HS256', { alg: 'HS256' }, 'ERR_JWT_ALG_NOT_ALLOWED'],
    ['alg HS512', { alg: 'HS512' }, 'ERR_JWT_ALG_NOT_ALLOWED'],
    ['alg rs256 (lower case)', { alg: 'rs256' }, 'ERR_JWT_ALG_NOT_ALLOWED'],
    ['alg ES256K', { alg: 'ES256K' }, 'ERR_JWT_ALG_NOT_ALLOWED'],
    ['alg Ed25519 (not the JWS name)', { alg: 'Ed25519' }, 'ERR_JWT_ALG_NOT_ALLOWED'],
    ['alg RSA-OAEP (an encryption algorithm)', { alg: 'RSA-OAEP' }, 'ERR_JWT_ALG_NOT_ALLOWED'],
    ['a numeric kid', { alg: 'RS256', kid: 1 }, 'ERR_JWT_HEADER_INVALID'],
    ['a null kid', { alg: 'RS256', kid: null }, 'ERR_JWT_HEADER_INVALID'],
    ['an object kid', { alg: 'RS256', kid: { id: 'k1' } }, 'ERR_JWT_HEADER_INVALID'],
    ['an array kid', { alg: 'RS256', kid: ['k1'] }, 'ERR_JWT_HEADER_INVALID'],
    ['a numeric typ', { alg: 'RS256', typ: 1 }, 'ERR_JWT_HEADER_INVALID'],
    [
      'crit with an unknown extension',
      { alg: 'RS256', crit: ['urn:example:ext'], 'urn:example:ext': 1 },
      'ERR_JWT_HEADER_INVALID',
    ],
    ['crit naming a registered member', { alg: 'RS256', crit: ['exp'] }, 'ERR_JWT_HEADER_INVALID'],
    ['an empty crit', { alg: 'RS256', crit: [] }, 'ERR_JWT_HEADER_INVALID'],
    ['a malformed crit', { alg: 'RS256', crit: 'b64' }, 'ERR_JWT_HEADER_INVALID'],
    ['b64 false with crit (RFC 7797)', { alg: 'RS256', b64: false, crit: ['b64'] }, 'ERR_JWT_HEADER_INVALID'],
    ['b64 false without crit', { alg: 'RS256', b64: false }, 'ERR_JWT_HEADER_INVALID'],
    ['b64 true', { alg: 'RS256', b64: true }, 'ERR_JWT_HEADER_INVALID'],
  ])('rejects a header with %s', (_why, header, code) => {
    expect(codeOf(token(header))).toBe(code)
    // Twice: the parsed-header cache must never turn a rejection into an acceptance.
    expect(codeOf(token(header))).toBe(code)
  })

  it('rejects alg none even when the signature part is present', () => {
    expect(codeOf(`${b64url({ alg: 'none' })}.${b64url(PAYLOAD)}.${SIG}`)).toBe('ERR_JWT_ALG_NOT_ALLOWED')
  })

  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])(
    'accepts alg %s',
    (alg) => {
      expect(parseCompactJWS(token({ alg }), MAX).header.alg).toBe(alg)
    },
  )

  it('keeps rejecting after hundreds of distinct headers went through the cache', () => {
    for (let i = 0; i < 600; i++) expect(codeOf(token({ alg: 'RS256', kid: `k${i}` }))).toBe('ACCEPTED')
    expect(codeOf(token({ alg: 'RS256', kid: 'k1', crit: ['x'] }))).toBe('ERR_JWT_HEADER_INVALID')
    expect(codeOf(token({ alg: 'RS256', kid: 'k5' }))).toBe('ACCEPTED')
  })
})

/** JSON text of `levels` nested arrays (`[[…]]`), the innermost holding `inner`. */
const nested = (levels: number, inner = '') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`

/** The error parseCompactJWS throws, or undefined when it accepts. */
function errorOf(input: string): unknown {
  try {
    parseCompactJWS(input, MAX)
  } catch (error) {
    return error
  }
  return undefined
}

describe('parseCompactJWS: nesting depth (at most MAX_JSON_DEPTH levels, the object itself counting)', () => {
  it('is 32', () => {
    expect(MAX_JSON_DEPTH).toBe(32)
  })

  it('a header nested 6000 levels deep (16 KB, under maxTokenLength) is ERR_JWT_MALFORMED, not a RangeError', () => {
    const input = token(`{"alg":"RS256","x":${nested(6000)}}`)
    expect(input.length).toBeLessThan(MAX)
    const error = errorOf(input)
    expect(error).toBeInstanceOf(GatehouseError)
    expect(error).toMatchObject({ code: 'ERR_JWT_MALFORMED', status: 401, error: 'invalid_token' })
    expect((error as GatehouseError).cause).toEqual({ part: 'header', maxDepth: 32 })
    // Again: the parsed-header cache must not hold it either.
    expect(errorOf(input)).toMatchObject({ code: 'ERR_JWT_MALFORMED' })
  })

  it('a payload nested 6000 levels deep is ERR_JWT_MALFORMED', () => {
    const error = errorOf(token(HEADER, `{"iss":"x","x":${nested(6000)}}`))
    expect(error).toMatchObject({ code: 'ERR_JWT_MALFORMED', cause: { part: 'payload', maxDepth: 32 } })
  })

  /** `levels` nested containers, alternating arrays and objects, around `1`. */
  const mixed = (levels: number) => {
    let text = '1'
    for (let i = 0; i < levels; i++) text = i % 2 === 0 ? `[${text}]` : `{"a":${text}}`
    return text
  }

  it.each<[string, (levels: number) => string]>([
    ['arrays', (levels) => nested(levels)],
    ['objects', (levels) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`],
    ['arrays and objects', mixed],
  ])('%s: 32 levels in all are accepted, 33 refused, in the header and in the payload', (_why, value) => {
    // The member sits in the top-level object, which is level 1: 31 more levels fit, 32 do not.
    expect(codeOf(token(`{"alg":"RS256","x":${value(31)}}`))).toBe('ACCEPTED')
    expect(codeOf(token(`{"alg":"RS256","x":${value(32)}}`))).toBe('ERR_JWT_MALFORMED')
    expect(codeOf(token(HEADER, `{"iss":"i","x":${value(31)}}`))).toBe('ACCEPTED')
    expect(codeOf(token(HEADER, `{"iss":"i","x":${value(32)}}`))).toBe('ERR_JWT_MALFORMED')
  })

  it('brackets inside strings, escaped quotes included, are not nesting', () => {
    const text = `{"iss":"i","a":"${'['.repeat(500)}","b":"\\"${'{'.repeat(500)}","c":[${'"[{",'.repeat(100)}1]}`
    expect(JSON.parse(text).c).toHaveLength(101)
    expect(codeOf(token(HEADER, text))).toBe('ACCEPTED')
  })

  it('wide is fine: thousands of sibling arrays and objects at a shallow depth', () => {
    const wide = `{"iss":"i","roles":[${Array.from({ length: 2000 }, (_, i) => `{"r":["${i}"]}`).join(',')}]}`
    expect(parseCompactJWS(token(HEADER, wide), 64_000).payload.roles).toHaveLength(2000)
  })
})

describe('deepFreeze', () => {
  it('freezes every level without recursion: a 20000-level structure does not exhaust the stack', () => {
    let deep: unknown[] = []
    const root = deep
    for (let i = 0; i < 20_000; i++) {
      const next: unknown[] = []
      deep.push(next, { i })
      deep = next
    }
    expect(deepFreeze(root)).toBe(root)
    expect(Object.isFrozen(deep)).toBe(true)
    expect(Object.isFrozen(root[1])).toBe(true)
  })

  it('leaves primitives alone and freezes objects inside arrays inside objects', () => {
    expect(deepFreeze(5)).toBe(5)
    const value = deepFreeze({ a: [{ b: { c: 1 } }], s: 'x' })
    expect(Object.isFrozen(value.a[0]?.b)).toBe(true)
  })
})

describe('parseCompactJWS: what a refusal carries', () => {
  it.each(['header', 'payload'] as const)(
    'a %s that is not JSON: the cause names the part, never its text',
    (part) => {
      const junk = b64url('SECRET-not-json')
      const good = b64url({ alg: 'RS256' })
      const token = part === 'header' ? `${junk}.${good}.c2ln` : `${good}.${junk}.c2ln`
      let caught: unknown
      try {
        parseCompactJWS(token, 16_384)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(GatehouseError)
      expect((caught as GatehouseError).code).toBe('ERR_JWT_MALFORMED')
      expect((caught as GatehouseError).cause).toEqual({ part, reason: 'SyntaxError' })
      expect(JSON.stringify((caught as GatehouseError).cause)).not.toContain('SECRET')
    },
  )
})
