/**
 * RFC 9068 (JWT Profile for OAuth 2.0 Access Tokens) strict mode: `typ: 'at+jwt'` makes the verifier
 * require the `at+jwt` media type in the header (§2.1, §4), which is what keeps an ID token or another
 * JWT of the same issuer from being replayed as an access token. Media types compare case-insensitively
 * and may omit `application/` (RFC 7515 §4.1.9).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { VerifierOptions } from '../../src/core/config/options.js'
import { createGate } from '../../src/core/http/gate.js'
import { createVerifier } from '../../src/core/verify/verifier.js'
import {
  AUDIENCE,
  claims,
  codeOf,
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

describe('strict: true, the RFC 9068 profile as one switch', () => {
  it.each<[string, string, string, string | undefined]>([
    // [why, strict, default, typ header]
    ['at+jwt', 'OK', 'OK', 'at+jwt'],
    ['application/at+jwt', 'OK', 'OK', 'application/at+jwt'],
    ['AT+JWT', 'OK', 'OK', 'AT+JWT'],
    ['none', 'ERR_JWT_TYP_INVALID', 'OK', undefined],
    ['JWT', 'ERR_JWT_TYP_INVALID', 'OK', 'JWT'],
    ['application/jwt', 'ERR_JWT_TYP_INVALID', 'OK', 'application/jwt'],
  ])('typ %s: strict → %s, default → %s', async (_why, strict, lax, typ) => {
    const token = await mint({}, { typ }, key)
    expect(await codeOf(verifierFor([key], { strict: true }).verify(token))).toBe(strict)
    expect(await codeOf(verifierFor([key]).verify(token))).toBe(lax)
    expect(await codeOf(verifierFor([key], { strict: false }).verify(token))).toBe(lax)
  })

  it('per issuer: only the strict issuer requires at+jwt', async () => {
    const other = await testKey('ES256', 'other-issuer')
    const verifier = createVerifier({
      audience: AUDIENCE,
      now: () => NOW * 1000,
      issuers: [
        { issuer: ISSUER, keys: jwksOf(key), strict: true },
        { issuer: 'https://lax.example.com/', keys: jwksOf(other) },
      ],
    })
    expect(await codeOf(verifier.verify(await mint({}, { typ: 'JWT' }, key)))).toBe('ERR_JWT_TYP_INVALID')
    const lax = await mint({ iss: 'https://lax.example.com/' }, { typ: 'JWT' }, other)
    expect(await codeOf(verifier.verify(lax))).toBe('OK')
  })

  it('scopes come only from the space-delimited scope claim: scp is never read', async () => {
    const request = (token: string) => ({ method: 'GET', headers: { authorization: `Bearer ${token}` } })
    const options = (strict: boolean) => ({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: jwksOf(key),
      now: () => NOW * 1000,
      strict,
    })
    const scp = await mint({ scp: ['admin'] }, { typ: 'at+jwt' }, key)
    const scpString = await mint({ scp: 'admin' }, { typ: 'at+jwt' }, key)
    const scope = await mint({ scope: 'read admin', scp: ['other'] }, { typ: 'at+jwt' }, key)
    const strict = createGate(options(true))
    const lax = createGate(options(false))
    expect([...(await strict.check(request(scp)))!.scopes]).toEqual([])
    expect([...(await strict.check(request(scpString)))!.scopes]).toEqual([])
    expect([...(await strict.check(request(scope)))!.scopes]).toEqual(['read', 'admin'])
    await expect(strict.check(request(scp), { scopes: 'admin' })).rejects.toMatchObject({
      code: 'ERR_POLICY_SCOPE',
    })
    // The default reads scp (Okta's array, Entra's string) when there is no scope claim.
    expect([...(await lax.check(request(scp)))!.scopes]).toEqual(['admin'])
    expect([...(await lax.check(request(scpString)))!.scopes]).toEqual(['admin'])
    // An array in scope is refused in every mode (RFC 9068 §2.2.3).
    const array = await mint({ scope: ['admin'] }, { typ: 'at+jwt' }, key)
    await expect(strict.check(request(array))).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID' })
  })

  it.each<[string, Partial<VerifierOptions>, RegExp]>([
    ['strict not a boolean', { strict: 'yes' as never }, /^strict: expected a boolean/],
    [
      'typ other than at+jwt',
      { strict: true, typ: 'JWT' },
      /^typ: expected only "at\+jwt" with strict: true/,
    ],
    ['typ with at+jwt and another', { strict: true, typ: ['at+jwt', 'jwt'] }, /^typ:/],
    [
      'scopes read from scp',
      { strict: true, claims: { scopes: ['scp'] } },
      /^claims\.scopes: expected \['scope'\] or nothing with strict: true/,
    ],
    [
      'scopes from scope then scp',
      { strict: true, claims: { scopes: ['scope', 'scp'] } },
      /^claims\.scopes:/,
    ],
  ])('a conflicting option is a TypeError naming it: %s', (_why, options, message) => {
    expect(() => verifierFor([key], options)).toThrow(TypeError)
    expect(() => verifierFor([key], options)).toThrow(message)
  })

  it('typ at+jwt in any spelling and scopes ["scope"] (or "/scope") agree with strict', async () => {
    for (const extra of [
      { typ: 'application/AT+JWT' },
      { claims: { scopes: ['/scope'] } },
      { claims: { scopes: [['scope']] } },
    ]) {
      const verifier = verifierFor([key], { strict: true, ...extra } as Partial<VerifierOptions>)
      expect(await codeOf(verifier.verify(await mint({}, { typ: 'at+jwt' }, key)))).toBe('OK')
    }
  })

  it('an issuer in a list names its place in the error', () => {
    expect(() =>
      createVerifier({
        audience: AUDIENCE,
        issuers: [{ issuer: ISSUER, keys: jwksOf(key), strict: true, typ: 'JWT' }],
      }),
    ).toThrow(/^issuers\[0\]\.typ:/)
  })
})
