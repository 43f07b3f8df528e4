/**
 * checkClaims (RFC 7519 §4.1, RFC 9068 §4): each guard clause, at its boundary, with its code. Times are
 * seconds; `now` is fixed. Issuer routing is the verifier's job (verifier.test.ts).
 */
import { describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { normalizeTyp } from '../../../src/core/lib/typ.js'
import type { JWTClaims, ProtectedHeader } from '../../../src/core/types.js'
import { type ClaimRules, checkClaims, checkTyp, validityWindow } from '../../../src/core/verify/claims.js'

const NOW = 1_700_000_000
const AUD = 'https://api.example.com'

function rules(overrides: Partial<ClaimRules> = {}): ClaimRules {
  return {
    audience: new Set([AUD]),
    clockTolerance: 5,
    maxTokenAge: undefined,
    requiredClaims: [],
    typ: null,
    ...overrides,
  }
}

function base(overrides: Record<string, unknown> = {}): JWTClaims {
  const out: Record<string, unknown> = {
    iss: 'https://issuer.example.com/',
    aud: AUD,
    sub: 'u1',
    iat: NOW - 10,
    exp: NOW + 60,
    ...overrides,
  }
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k]
  return out as JWTClaims
}

function outcome(claims: JWTClaims, r: ClaimRules = rules(), now = NOW): string {
  try {
    checkClaims(claims, r, now)
    return 'OK'
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError)
    return (error as GatehouseError).code
  }
}

describe('exp (RFC 7519 §4.1.4): required, a number, strictly in the future within the tolerance', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['valid', {}, 'OK'],
    ['missing', { exp: undefined }, 'ERR_JWT_CLAIM_MISSING'],
    ['a string', { exp: String(NOW + 60) }, 'ERR_JWT_CLAIM_INVALID'],
    ['null', { exp: null }, 'ERR_JWT_CLAIM_INVALID'],
    ['Infinity (JSON 1e999)', { exp: Number.POSITIVE_INFINITY }, 'ERR_JWT_CLAIM_INVALID'],
    ['NaN', { exp: Number.NaN }, 'ERR_JWT_CLAIM_INVALID'],
    ['long past', { exp: NOW - 3600 }, 'ERR_JWT_EXPIRED'],
    ['exactly now - tolerance (boundary: expired)', { exp: NOW - 5 }, 'ERR_JWT_EXPIRED'],
    ['just inside the tolerance', { exp: NOW - 4.999 }, 'OK'],
    ['exactly now (accepted thanks to the tolerance)', { exp: NOW }, 'OK'],
  ])('%s → %s', (_why, overrides, code) => {
    expect(outcome(base(overrides))).toBe(code)
  })

  it('with clockTolerance 0, a token expiring now is expired', () => {
    expect(outcome(base({ exp: NOW }), rules({ clockTolerance: 0 }))).toBe('ERR_JWT_EXPIRED')
    expect(outcome(base({ exp: NOW + 1 }), rules({ clockTolerance: 0 }))).toBe('OK')
  })
})

describe('nbf (RFC 7519 §4.1.5)', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['absent', {}, 'OK'],
    ['in the past', { nbf: NOW - 100 }, 'OK'],
    ['at the edge of the tolerance', { nbf: NOW + 5 }, 'OK'],
    ['beyond the tolerance', { nbf: NOW + 6 }, 'ERR_JWT_NOT_YET_VALID'],
    ['a string', { nbf: String(NOW) }, 'ERR_JWT_CLAIM_INVALID'],
    ['-Infinity', { nbf: Number.NEGATIVE_INFINITY }, 'ERR_JWT_CLAIM_INVALID'],
  ])('%s → %s', (_why, overrides, code) => {
    expect(outcome(base(overrides))).toBe(code)
  })
})

describe('iat (RFC 7519 §4.1.6) and maxTokenAge', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['absent', { iat: undefined }, 'OK'],
    ['at the edge of the tolerance in the future', { iat: NOW + 5 }, 'OK'],
    ['in the future beyond the tolerance', { iat: NOW + 6 }, 'ERR_JWT_CLAIM_INVALID'],
    ['a string', { iat: 'yesterday' }, 'ERR_JWT_CLAIM_INVALID'],
  ])('%s → %s', (_why, overrides, code) => {
    expect(outcome(base(overrides))).toBe(code)
  })

  it('maxTokenAge requires iat and rejects older tokens (tolerance included)', () => {
    const r = rules({ maxTokenAge: 300 })
    expect(outcome(base({ iat: undefined }), r)).toBe('ERR_JWT_CLAIM_MISSING')
    expect(outcome(base({ iat: NOW - 305 }), r)).toBe('OK')
    expect(outcome(base({ iat: NOW - 306 }), r)).toBe('ERR_JWT_TOO_OLD')
    expect(outcome(base({ iat: NOW - 306 }), rules())).toBe('OK')
  })
})

describe('aud (RFC 7519 §4.1.3)', () => {
  it.each<[string, unknown, string]>([
    ['the audience', AUD, 'OK'],
    ['an array containing it', ['https://other.example', AUD], 'OK'],
    ['missing', undefined, 'ERR_JWT_CLAIM_MISSING'],
    ['another audience', 'https://other.example', 'ERR_JWT_AUDIENCE_INVALID'],
    ['a trailing-slash variant', `${AUD}/`, 'ERR_JWT_AUDIENCE_INVALID'],
    ['a case variant', AUD.toUpperCase(), 'ERR_JWT_AUDIENCE_INVALID'],
    ['an array without it', ['https://other.example'], 'ERR_JWT_AUDIENCE_INVALID'],
    ['an empty array', [], 'ERR_JWT_AUDIENCE_INVALID'],
    ['a number', 42, 'ERR_JWT_CLAIM_INVALID'],
    ['an array with a non-string', [AUD, 42], 'ERR_JWT_CLAIM_INVALID'],
    ['an object', { aud: AUD }, 'ERR_JWT_CLAIM_INVALID'],
  ])('%s → %s', (_why, aud, code) => {
    expect(outcome(base({ aud }))).toBe(code)
  })

  it('accepts any of several configured audiences', () => {
    const r = rules({ audience: new Set(['a', 'b']) })
    expect(outcome(base({ aud: 'b' }), r)).toBe('OK')
    expect(outcome(base({ aud: ['x', 'a'] }), r)).toBe('OK')
    expect(outcome(base({ aud: 'c' }), r)).toBe('ERR_JWT_AUDIENCE_INVALID')
  })

  it('audience null switches the check off entirely (missing or any value)', () => {
    const r = rules({ audience: null })
    expect(outcome(base({ aud: undefined }), r)).toBe('OK')
    expect(outcome(base({ aud: 'https://other.example' }), r)).toBe('OK')
  })
})

describe('string claims (RFC 7519 §4.1.2, §4.1.7, RFC 9068 §2.2)', () => {
  it.each(['sub', 'jti', 'client_id', 'scope'])('%s must be a string when present', (name) => {
    expect(outcome(base({ [name]: 'text' }))).toBe('OK')
    expect(outcome(base({ [name]: 12345 }))).toBe('ERR_JWT_CLAIM_INVALID')
    expect(outcome(base({ [name]: ['a'] }))).toBe('ERR_JWT_CLAIM_INVALID')
    expect(outcome(base({ [name]: null }))).toBe('ERR_JWT_CLAIM_INVALID')
  })
})

describe('requiredClaims', () => {
  it('each listed claim must be present', () => {
    const r = rules({ requiredClaims: ['sub', 'client_id'] })
    expect(outcome(base({ client_id: 'c' }), r)).toBe('OK')
    expect(outcome(base(), r)).toBe('ERR_JWT_CLAIM_MISSING')
    expect(outcome(base({ client_id: 'c', sub: undefined }), r)).toBe('ERR_JWT_CLAIM_MISSING')
  })

  it('a claim is present only as an own member of the claims, never through the prototype', () => {
    // Claims come from JSON.parse: plain objects whose prototype has "constructor", "toString"...
    const parsed = JSON.parse(JSON.stringify(base())) as JWTClaims
    for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
      expect(outcome(parsed, rules({ requiredClaims: [name] })), name).toBe('ERR_JWT_CLAIM_MISSING')
    }
  })

  it('names the missing claim in the message', () => {
    try {
      checkClaims(base(), rules({ requiredClaims: ['tenant'] }), NOW)
      expect.unreachable()
    } catch (error) {
      expect((error as GatehouseError).message).toContain('"tenant"')
    }
  })
})

describe('typ (RFC 7515 §4.1.9, RFC 9068 §2.1)', () => {
  const header = (typ?: string): ProtectedHeader =>
    typ === undefined ? { alg: 'RS256' } : { alg: 'RS256', typ }

  it('normalizes case and the application/ prefix', () => {
    expect(normalizeTyp('application/AT+JWT')).toBe('at+jwt')
    expect(normalizeTyp('At+Jwt')).toBe('at+jwt')
    expect(normalizeTyp('JWT')).toBe('jwt')
  })

  it('null accepts any typ or none', () => {
    expect(() => checkTyp(header(), null)).not.toThrow()
    expect(() => checkTyp(header('whatever'), null)).not.toThrow()
  })

  it('a configured set rejects a missing or different typ', () => {
    const accepted = new Set(['at+jwt'])
    expect(() => checkTyp(header('at+jwt'), accepted)).not.toThrow()
    expect(() => checkTyp(header('application/at+jwt'), accepted)).not.toThrow()
    for (const typ of [undefined, 'JWT', 'at+jwt2', 'application/jwt', 'x/at+jwt']) {
      try {
        checkTyp(header(typ), accepted)
        expect.unreachable(`typ ${typ} was accepted`)
      } catch (error) {
        expect((error as GatehouseError).code).toBe('ERR_JWT_TYP_INVALID')
      }
    }
  })
})

describe('validityWindow (for the verified-token cache)', () => {
  it('ends at exp + tolerance and starts at max(nbf, iat) - tolerance', () => {
    expect(validityWindow(base({ nbf: NOW - 20 }), rules())).toEqual({ from: NOW - 15, until: NOW + 65 })
    expect(validityWindow(base({ iat: undefined }), rules())).toEqual({
      from: Number.NEGATIVE_INFINITY,
      until: NOW + 65,
    })
  })

  it('ends earlier when maxTokenAge runs out before exp', () => {
    expect(validityWindow(base({ iat: NOW - 10, exp: NOW + 3600 }), rules({ maxTokenAge: 100 })).until).toBe(
      NOW + 95,
    )
  })

  it('agrees with checkClaims on every second around its edges', () => {
    const r = rules({ maxTokenAge: 50 })
    const c = base({ iat: NOW - 10, nbf: NOW + 3, exp: NOW + 100 })
    const { from, until } = validityWindow(c, r)
    for (let t = NOW - 30; t < NOW + 120; t++) {
      const inWindow = t >= from && t < until
      // The cache may only be stricter than checkClaims, never more lenient.
      if (inWindow) expect(outcome(c, r, t)).toBe('OK')
    }
  })
})
