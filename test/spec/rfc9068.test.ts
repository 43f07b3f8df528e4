/**
 * RFC 9068 (JWT Profile for OAuth 2.0 Access Tokens) strict mode: `typ: 'at+jwt'` makes the verifier
 * require the `at+jwt` media type in the header (§2.1, §4), which is what keeps an ID token or another
 * JWT of the same issuer from being replayed as an access token. Media types compare case-insensitively
 * and may omit `application/` (RFC 7515 §4.1.9).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../src/core/errors.js'
import { createVerifier } from '../../src/core/verify.js'
import {
  AUDIENCE,
  claims,
  ISSUER,
  jwksOf,
  mint,
  NOW,
  sign,
  type TestKey,
  TestKeyStore,
  testKey,
  verifierFor,
} from '../helpers/tokens.js'

let key: TestKey
beforeAll(async () => {
  key = await testKey('ES256')
})

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'OK'
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw error
    return error.code
  }
}

describe('RFC 9068 §2.1 / §4: typ at+jwt (strict mode)', () => {
  it.each<[string, string | undefined, string]>([
    ['at+jwt', 'at+jwt', 'OK'],
    ['application/at+jwt (the full media type)', 'application/at+jwt', 'OK'],
    ['AT+JWT (media types are case-insensitive)', 'AT+JWT', 'OK'],
    ['Application/At+Jwt', 'Application/At+Jwt', 'OK'],
    ['missing', undefined, 'ERR_JWT_TYP_INVALID'],
    ['JWT (an ID token or a generic JWT)', 'JWT', 'ERR_JWT_TYP_INVALID'],
    ['application/jwt', 'application/jwt', 'ERR_JWT_TYP_INVALID'],
    ['at+jwt with a trailing space', 'at+jwt ', 'ERR_JWT_TYP_INVALID'],
    ['at+JWT2', 'at+JWT2', 'ERR_JWT_TYP_INVALID'],
    ['text/at+jwt (another top-level type)', 'text/at+jwt', 'ERR_JWT_TYP_INVALID'],
    ['application/application/at+jwt', 'application/application/at+jwt', 'ERR_JWT_TYP_INVALID'],
    ['empty', '', 'ERR_JWT_TYP_INVALID'],
  ])('typ %s → %s', async (_why, typ, code) => {
    const verifier = verifierFor([key], { typ: 'at+jwt' })
    expect(await codeOf(verifier.verify(await mint({}, { typ }, key)))).toBe(code)
  })

  it('the option itself may be written as the full media type, in any case', async () => {
    for (const option of ['application/at+jwt', 'AT+JWT']) {
      const verifier = verifierFor([key], { typ: option })
      expect(await codeOf(verifier.verify(await mint({}, { typ: 'at+jwt' }, key)))).toBe('OK')
      expect(await codeOf(verifier.verify(await mint({}, { typ: 'JWT' }, key)))).toBe('ERR_JWT_TYP_INVALID')
    }
  })

  it('a non-string typ is a header error, whatever the mode', async () => {
    const token = await sign({ alg: 'ES256', kid: key.kid, typ: ['at+jwt'] }, claims(), key)
    expect(await codeOf(verifierFor([key], { typ: 'at+jwt' }).verify(token))).toBe('ERR_JWT_HEADER_INVALID')
    expect(await codeOf(verifierFor([key]).verify(token))).toBe('ERR_JWT_HEADER_INVALID')
  })

  it('without the option, any typ or none is accepted (providers that send JWT)', async () => {
    const verifier = verifierFor([key])
    for (const typ of [undefined, 'JWT', 'at+jwt', 'application/at+jwt', 'anything']) {
      expect(await codeOf(verifier.verify(await mint({}, { typ }, key))), String(typ)).toBe('OK')
    }
  })

  it('several accepted types', async () => {
    const verifier = verifierFor([key], { typ: ['at+jwt', 'application/jwt'] })
    expect(await codeOf(verifier.verify(await mint({}, { typ: 'JWT' }, key)))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({}, { typ: 'at+jwt' }, key)))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({}, { typ: 'id+jwt' }, key)))).toBe('ERR_JWT_TYP_INVALID')
  })

  it('is checked before any key lookup', async () => {
    const store = new TestKeyStore(jwksOf(key))
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: store,
      typ: 'at+jwt',
      now: () => NOW * 1000,
    })
    expect(await codeOf(verifier.verify(await mint({}, { typ: 'JWT' }, key)))).toBe('ERR_JWT_TYP_INVALID')
    expect(store.lookups).toBe(0)
  })

  it('the typ header is covered by the signature: relabelling JWT as at+jwt breaks it', async () => {
    const token = await mint({}, { typ: 'JWT' }, key)
    const [, p, s] = token.split('.')
    const relabelled = `${Buffer.from(JSON.stringify({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' })).toString('base64url')}.${p}.${s}`
    expect(await codeOf(verifierFor([key], { typ: 'at+jwt' }).verify(relabelled))).toBe(
      'ERR_JWS_SIGNATURE_INVALID',
    )
  })
})

describe('RFC 9068 §2.2: the profile claims, required through requiredClaims', () => {
  const profile = ['sub', 'client_id', 'iat', 'jti']

  it('a token with iss, exp, aud, sub, client_id, iat and jti passes; without one of them it does not', async () => {
    const verifier = verifierFor([key], { typ: 'at+jwt', requiredClaims: profile })
    const full = { client_id: 's6BhdRkqt3', jti: 'dbe39bf3a3ba4238a513f51d6e1691c4' }
    expect(await codeOf(verifier.verify(await mint(full, { typ: 'at+jwt' }, key)))).toBe('OK')
    for (const name of [...profile, 'aud', 'exp']) {
      expect(
        await codeOf(verifier.verify(await mint({ ...full, [name]: undefined }, { typ: 'at+jwt' }, key))),
        name,
      ).toBe('ERR_JWT_CLAIM_MISSING')
    }
  })

  it('client_id and jti must be strings (RFC 9068 §2.2, RFC 7519 §4.1.7)', async () => {
    const verifier = verifierFor([key])
    expect(await codeOf(verifier.verify(await mint({ client_id: 42 }, {}, key)))).toBe(
      'ERR_JWT_CLAIM_INVALID',
    )
    expect(await codeOf(verifier.verify(await mint({ jti: 42 }, {}, key)))).toBe('ERR_JWT_CLAIM_INVALID')
  })

  it('scope is a space-separated string (RFC 9068 §2.2.3, RFC 8693 §4.2): an array is invalid', async () => {
    const verifier = verifierFor([key])
    expect(await codeOf(verifier.verify(await mint({ scope: 'read write' }, {}, key)))).toBe('OK')
    expect(await codeOf(verifier.verify(await mint({ scope: ['read', 'write'] }, {}, key)))).toBe(
      'ERR_JWT_CLAIM_INVALID',
    )
  })
})
