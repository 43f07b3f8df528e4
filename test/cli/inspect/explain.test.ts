import { describe, expect, it } from 'vitest'
import { cleanToken, decodeUntrusted } from '../../../src/cli/inspect/decode.js'
import { checkOf, issuerDifference } from '../../../src/cli/inspect/explain.js'
import { type ErrorCode, GatehouseError } from '../../../src/core/errors.js'

describe('issuerDifference', () => {
  it.each([
    ['https://a.example/', 'https://a.example', 'the trailing slash differs'],
    ['https://A.example', 'https://a.example', 'the letter case differs'],
    ['http://a.example', 'https://a.example', 'the scheme differs (http vs https)'],
    ['https://a.example/x', 'https://a.example/y', 'the path differs'],
    ['https://a.example:8443', 'https://a.example', 'the port differs'],
    ['https://b.example', 'https://a.example', 'it is a different issuer'],
  ])('%s vs %s: %s', (actual, expected, why) => {
    expect(issuerDifference(actual, expected)).toBe(why)
  })
})

describe('checkOf maps every verifier code to the check that failed', () => {
  const error = (code: ErrorCode, description?: string) => new GatehouseError(code, description)
  it.each<[GatehouseError, number | undefined, string]>([
    [error('ERR_JWT_MALFORMED'), undefined, 'format'],
    [error('ERR_JWT_HEADER_INVALID'), undefined, 'format'],
    [error('ERR_JWT_ISSUER_INVALID'), undefined, 'iss'],
    [error('ERR_JWT_CLAIM_MISSING', '"iss" claim is missing'), undefined, 'iss'],
    [error('ERR_JWT_ALG_NOT_ALLOWED'), undefined, 'alg'],
    [error('ERR_JWT_TYP_INVALID'), undefined, 'typ'],
    [error('ERR_JWKS_NO_MATCHING_KEY'), undefined, 'kid'],
    [error('ERR_JWKS_TIMEOUT'), undefined, 'kid'],
    [error('ERR_DISCOVERY_FAILED'), undefined, 'kid'],
    [error('ERR_JWS_SIGNATURE_INVALID'), undefined, 'signature'],
    [error('ERR_JWT_EXPIRED'), undefined, 'exp'],
    [error('ERR_JWT_CLAIM_MISSING', '"exp" claim is missing'), undefined, 'exp'],
    [error('ERR_JWT_NOT_YET_VALID'), undefined, 'nbf'],
    [error('ERR_JWT_CLAIM_INVALID', '"iat" claim is in the future'), undefined, 'iat'],
    [error('ERR_JWT_CLAIM_MISSING', '"iat" claim is missing'), 60, 'age'],
    [error('ERR_JWT_CLAIM_MISSING', '"iat" claim is missing'), undefined, 'claims'],
    [error('ERR_JWT_TOO_OLD'), 60, 'age'],
    [error('ERR_JWT_AUDIENCE_INVALID'), undefined, 'aud'],
    [error('ERR_JWT_CLAIM_INVALID', '"sub" claim is not a string'), undefined, 'claims'],
    [error('ERR_POLICY_SCOPE'), undefined, 'scope'],
  ])('%s → %s', (err, maxTokenAge, check) => {
    expect(checkOf(err, maxTokenAge)).toBe(check)
  })
})

describe('decodeUntrusted', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  it('decodes a JWS without checking anything', () => {
    expect(decodeUntrusted(`${b64({ alg: 'HS256' })}.${b64({ sub: 'x' })}.sig`)).toEqual({
      kind: 'jws',
      header: { alg: 'HS256' },
      claims: { sub: 'x' },
    })
  })
  it.each([
    ['opaque-token', 'opaque'],
    ['a.b.c.d.e', 'jwe'],
    ['a.b', 'malformed'],
    [`${b64({ alg: 'RS256' })}.not-json.sig`, 'malformed'],
  ])('%s is %s', (token, kind) => {
    expect(decodeUntrusted(token).kind).toBe(kind)
  })
  it('cleanToken strips what people paste around a token', () => {
    expect(cleanToken('  Authorization: Bearer abc.def\n.ghi  ')).toBe('abc.def.ghi')
  })
})
