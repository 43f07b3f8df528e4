/**
 * RFC 9449 §4.3, §6.1, §7.1, §11.1: every check a resource server makes on a DPoP proof. Each rejection
 * case differs from a proof that is accepted (the first test) in one thing only, so each fails if its
 * rule is missing. The RFC's own example proof (§4.1 Figure 2) is checked as it is printed.
 */
import { createHmac, generateKeyPairSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { DpopRequest } from '../../../src/core/dpop/checker.js'
import { GatehouseError } from '../../../src/core/errors.js'
import { createMemoryStore } from '../../../src/core/store/memory.js'
import { b64url, NOW, sign, signSegments, type TestKey, testKey } from '../../helpers/tokens.js'
import {
  ACCESS_TOKEN,
  athOf,
  checkerAt,
  HTU,
  jktOf,
  proof,
  publicJwk,
  requestFor,
  URL_WITH_QUERY,
} from './helpers.js'

const example = JSON.parse(readFileSync(new URL('./fixtures/rfc9449.json', import.meta.url), 'utf8')) as {
  proof: string
  jkt: string
  htm: string
  htu: string
  iat: number
}

let es256: TestKey
let other: TestKey
let jkt: string
beforeAll(async () => {
  es256 = await testKey('ES256')
  other = await testKey('ES256', 'other-client')
  jkt = await jktOf(es256)
})

/** The code a fresh checker answers for `request` ('OK' when accepted). */
async function outcome(request: DpopRequest, options: Parameters<typeof checkerAt>[0] = {}): Promise<string> {
  try {
    await checkerAt(options).check(request)
    return 'OK'
  } catch (error) {
    if (!(error instanceof GatehouseError)) throw error
    return error.code
  }
}

describe('RFC 9449 §4.3: a proof that passes every check', () => {
  it('is accepted, with the key thumbprint and the token type the auth context carries', async () => {
    const result = await checkerAt().check(requestFor(await proof(es256), jkt))
    expect(result).toEqual({ jkt, tokenType: 'dpop' })
  })

  it('the example proof of RFC 9449 §4.1 (Figure 2), at its own time, without an access token', async () => {
    const dpop = checkerAt({}, { ms: example.iat * 1000 })
    const request = { proof: example.proof, method: example.htm, url: example.htu }
    expect(await dpop.check(request)).toEqual({ jkt: example.jkt, tokenType: 'dpop' })
  })

  it.each(['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256', 'PS256', 'PS512'] as const)(
    'signed with %s',
    async (alg) => {
      const key = await testKey(alg)
      expect(await outcome(requestFor(await proof(key), await jktOf(key)))).toBe('OK')
    },
  )
})

describe('RFC 9449 §4.3 checks 1 and 2: exactly one well-formed proof', () => {
  it.each<[string, (p: string) => DpopRequest['proof'], string]>([
    ['no DPoP header', () => undefined, 'ERR_DPOP_PROOF_MISSING'],
    ['Headers.get of no header (null)', () => null, 'ERR_DPOP_PROOF_MISSING'],
    ['an empty header', () => '', 'ERR_DPOP_PROOF_MISSING'],
    ['no field values', () => [], 'ERR_DPOP_PROOF_MISSING'],
    ['two header fields', (p) => [p, p], 'ERR_DPOP_PROOF_MULTIPLE'],
    [
      'two proofs joined by a comma (how Node and Headers join fields)',
      (p) => `${p}, ${p}`,
      'ERR_DPOP_PROOF_MULTIPLE',
    ],
    ['one field value in an array', (p) => [p], 'OK'],
    ['not a JWT', () => 'not-a-jwt', 'ERR_DPOP_PROOF_MALFORMED'],
    ['two parts', (p) => p.slice(0, p.lastIndexOf('.')), 'ERR_DPOP_PROOF_MALFORMED'],
    ['longer than maxProofLength', (p) => `${p}${'A'.repeat(8192)}`, 'ERR_DPOP_PROOF_MALFORMED'],
  ])('%s → %s', async (_why, value, code) => {
    expect(await outcome(requestFor(value(await proof(es256)), jkt))).toBe(code)
  })

  it.each<[string, Record<string, unknown>]>([
    ['no jti', { jti: undefined }],
    ['an empty jti', { jti: '' }],
    ['a jti over 256 characters', { jti: 'j'.repeat(257) }],
    ['no htm', { htm: undefined }],
    ['no htu', { htu: undefined }],
    ['no iat', { iat: undefined }],
    ['iat as a string', { iat: String(NOW) }],
    ['ath that is not a string', { ath: 1 }],
    ['nonce that is not a string', { nonce: ['n'] }],
  ])('§4.2 claims: %s → ERR_DPOP_PROOF_MALFORMED', async (_why, claims) => {
    expect(await outcome(requestFor(await proof(es256, claims), jkt))).toBe('ERR_DPOP_PROOF_MALFORMED')
  })

  it('payload JSON nested deeper than 32 levels → ERR_DPOP_PROOF_MALFORMED', async () => {
    let deep: unknown = 1
    for (let i = 0; i < 40; i++) deep = [deep]
    expect(await outcome(requestFor(await proof(es256, { x: deep }), jkt))).toBe('ERR_DPOP_PROOF_MALFORMED')
  })
})

describe('RFC 9449 §4.3 checks 4, 5, 7: typ, alg, a public jwk', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['no typ', { typ: undefined }, 'ERR_DPOP_PROOF_TYP_INVALID'],
    ['typ JWT', { typ: 'JWT' }, 'ERR_DPOP_PROOF_TYP_INVALID'],
    ['typ at+jwt (an access token as a proof)', { typ: 'at+jwt' }, 'ERR_DPOP_PROOF_TYP_INVALID'],
    [
      'typ application/dpop+jwt (RFC 7515 §4.1.9: the same media type)',
      { typ: 'application/dpop+jwt' },
      'OK',
    ],
    ['no jwk', { jwk: undefined }, 'ERR_DPOP_PROOF_KEY_INVALID'],
    ['a jwk that is a string', { jwk: 'key' }, 'ERR_DPOP_PROOF_KEY_INVALID'],
    ['a crit header', { crit: ['exp'] }, 'ERR_DPOP_PROOF_MALFORMED'],
  ])('%s → %s', async (_why, header, code) => {
    expect(await outcome(requestFor(await proof(es256, {}, header), jkt))).toBe(code)
  })

  it('alg none (with a signature part) → ERR_DPOP_PROOF_ALG_NOT_ALLOWED', async () => {
    const [h, p] = (await proof(es256)).split('.')
    const header = b64url({ typ: 'dpop+jwt', alg: 'none', jwk: publicJwk(es256) })
    expect(await outcome(requestFor(`${header}.${p}.c2ln`, jkt))).toBe('ERR_DPOP_PROOF_ALG_NOT_ALLOWED')
    expect(await outcome(requestFor(`${header}.${p}.`, jkt))).toBe('ERR_DPOP_PROOF_MALFORMED') // no signature
    expect(h).not.toBe(header)
  })

  it('HS256 with the key in the header as an oct JWK → ERR_DPOP_PROOF_ALG_NOT_ALLOWED', async () => {
    const secret = Buffer.alloc(32, 7)
    const header = b64url({
      typ: 'dpop+jwt',
      alg: 'HS256',
      jwk: { kty: 'oct', k: secret.toString('base64url') },
    })
    const payload = b64url({ jti: 'hs', htm: 'GET', htu: HTU, iat: NOW, ath: athOf(ACCESS_TOKEN) })
    const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')
    expect(await outcome(requestFor(`${header}.${payload}.${mac}`, jkt))).toBe(
      'ERR_DPOP_PROOF_ALG_NOT_ALLOWED',
    )
  })

  it('an asymmetric alg outside `algorithms` → ERR_DPOP_PROOF_ALG_NOT_ALLOWED', async () => {
    const request = requestFor(await proof(es256), jkt)
    expect(await outcome(request, { algorithms: ['EdDSA', 'PS256'] })).toBe('ERR_DPOP_PROOF_ALG_NOT_ALLOWED')
    expect(await outcome(request, { algorithms: ['ES256'] })).toBe('OK')
  })

  it('RFC 9864 alg Ed25519 (what current clients send): EdDSA with an Ed25519 key, where EdDSA is allowed', async () => {
    const ed = await testKey('EdDSA')
    const request = requestFor(await proof(ed, {}, { alg: 'Ed25519' }), await jktOf(ed))
    expect(await outcome(request)).toBe('OK')
    expect(await outcome(request, { algorithms: ['ES256'] })).toBe('ERR_DPOP_PROOF_ALG_NOT_ALLOWED')
    // The name says which key: an EC key under Ed25519 is refused, as Ed448 is (not supported).
    expect(await outcome(requestFor(await proof(es256, {}, { alg: 'Ed25519' }), jkt))).toBe(
      'ERR_DPOP_PROOF_KEY_INVALID',
    )
    expect(await outcome(requestFor(await proof(ed, {}, { alg: 'Ed448' }), jkt))).toBe(
      'ERR_DPOP_PROOF_ALG_NOT_ALLOWED',
    )
  })

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])(
    'a jwk with the private member "%s" → ERR_DPOP_PROOF_KEY_INVALID',
    async (member) => {
      const jwk = { ...publicJwk(es256), [member]: 'AAAA' }
      expect(await outcome(requestFor(await proof(es256, {}, { jwk }), jkt))).toBe(
        'ERR_DPOP_PROOF_KEY_INVALID',
      )
    },
  )

  it('the private key itself, as a client might leak it → ERR_DPOP_PROOF_KEY_INVALID', async () => {
    const jwk = es256.privateKey.export({ format: 'jwk' })
    expect(jwk.d).toBeDefined()
    expect(await outcome(requestFor(await proof(es256, {}, { jwk }), jkt))).toBe('ERR_DPOP_PROOF_KEY_INVALID')
  })

  it.each<[string, (jwk: Record<string, unknown>) => Record<string, unknown>]>([
    ['an EC key without y', ({ y: _y, ...rest }) => rest],
    ['a key of an unknown type', (jwk) => ({ ...jwk, kty: 'XYZ' })],
    ['a P-384 key for ES256', (jwk) => ({ ...jwk, crv: 'P-384' })],
    ['a point not on the curve', (jwk) => ({ ...jwk, y: jwk.x })],
  ])('%s → ERR_DPOP_PROOF_KEY_INVALID', async (_why, change) => {
    const jwk = change(publicJwk(es256) as Record<string, unknown>)
    expect(await outcome(requestFor(await proof(es256, {}, { jwk }), jkt))).toBe('ERR_DPOP_PROOF_KEY_INVALID')
  })

  it('an RSA key under 2048 bits → ERR_DPOP_PROOF_KEY_INVALID', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const small = { ...(await testKey('RS256')), privateKey }
    const jwk = publicKey.export({ format: 'jwk' })
    expect(await outcome(requestFor(await proof(small, {}, { jwk }), jkt))).toBe('ERR_DPOP_PROOF_KEY_INVALID')
  })
})

describe('RFC 9449 §4.3 check 6: the signature under the jwk', () => {
  it('signed by another key than the one in the header → ERR_DPOP_PROOF_SIGNATURE_INVALID', async () => {
    const header = { typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk(es256) }
    const forged = await sign(
      header,
      { jti: 'x', htm: 'GET', htu: HTU, iat: NOW, ath: athOf(ACCESS_TOKEN) },
      other,
    )
    expect(await outcome(requestFor(forged, jkt))).toBe('ERR_DPOP_PROOF_SIGNATURE_INVALID')
  })

  it('a payload changed after signing → ERR_DPOP_PROOF_SIGNATURE_INVALID', async () => {
    const [h, , s] = (await proof(es256, { htm: 'POST' })).split('.')
    const p = b64url({ jti: 'x', htm: 'GET', htu: HTU, iat: NOW, ath: athOf(ACCESS_TOKEN) })
    expect(await outcome(requestFor(`${h}.${p}.${s}`, jkt))).toBe('ERR_DPOP_PROOF_SIGNATURE_INVALID')
  })
})

describe('RFC 9449 §4.3 checks 8 and 9: htm and htu name this request', () => {
  it.each<[string, Record<string, unknown>, Partial<DpopRequest>, string]>([
    ['htm POST for a GET', { htm: 'POST' }, {}, 'ERR_DPOP_PROOF_HTM_MISMATCH'],
    ['htm get for a GET (methods are case-sensitive)', { htm: 'get' }, {}, 'ERR_DPOP_PROOF_HTM_MISMATCH'],
    ['another path', { htu: 'https://api.example.com/messages/1' }, {}, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
    ['a trailing slash', { htu: 'https://api.example.com/messages/' }, {}, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
    ['another port', { htu: 'https://api.example.com:8443/messages' }, {}, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
    ['another scheme', { htu: 'http://api.example.com/messages' }, {}, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
    ['another host', { htu: 'https://api.example.org/messages' }, {}, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
    ['a relative htu', { htu: '/messages' }, {}, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
    ['a URN', { htu: 'urn:example:messages' }, {}, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
    ['the request’s query, which must be ignored', {}, { url: `${HTU}?page=2&x=%20` }, 'OK'],
    ['a request without query', {}, { url: HTU }, 'OK'],
    ['a fragment in htu, ignored', { htu: `${HTU}#top` }, {}, 'OK'],
    ['a query in htu, ignored', { htu: `${HTU}?page=9` }, {}, 'OK'],
    ['the URL as a URL object', {}, { url: new URL(URL_WITH_QUERY) }, 'OK'],
    [
      'htu with the default port and upper-case host',
      { htu: 'HTTPS://API.Example.COM:443/messages' },
      {},
      'OK',
    ],
    [
      'htu with dot segments and encoded unreserved',
      { htu: 'https://api.example.com/a/../%6Dessages' },
      {},
      'OK',
    ],
    ['a request URL that is not absolute', {}, { url: '/messages' }, 'ERR_DPOP_PROOF_HTU_MISMATCH'],
  ])('%s → %s', async (_why, claims, request, code) => {
    expect(await outcome(requestFor(await proof(es256, claims), jkt, request))).toBe(code)
  })
})

describe('RFC 9449 §4.3 check 11, §11.1: iat within maxAge and clockTolerance', () => {
  // Defaults: maxAge 300 s, clockTolerance 30 s.
  it.each<[string, number, string]>([
    ['made now', NOW, 'OK'],
    ['330 s old (maxAge + clockTolerance)', NOW - 330, 'OK'],
    ['331 s old', NOW - 331, 'ERR_DPOP_PROOF_TOO_OLD'],
    ['an hour old', NOW - 3600, 'ERR_DPOP_PROOF_TOO_OLD'],
    ['30 s in the future (clockTolerance)', NOW + 30, 'OK'],
    ['31 s in the future', NOW + 31, 'ERR_DPOP_PROOF_NOT_YET_VALID'],
    ['fractional seconds', NOW - 0.5, 'OK'],
  ])('%s → %s', async (_why, iat, code) => {
    expect(await outcome(requestFor(await proof(es256, { iat }), jkt))).toBe(code)
  })

  it('maxAge and clockTolerance are options', async () => {
    const request = requestFor(await proof(es256, { iat: NOW - 100 }), jkt)
    expect(await outcome(request, { maxAge: 60, clockTolerance: 0 })).toBe('ERR_DPOP_PROOF_TOO_OLD')
    expect(await outcome(request, { maxAge: 100, clockTolerance: 0 })).toBe('OK')
  })
})

describe('RFC 9449 §11.1: a proof is accepted once (jti, per key)', () => {
  it('the same proof twice → ERR_DPOP_PROOF_REPLAYED', async () => {
    const dpop = checkerAt()
    const request = requestFor(await proof(es256), jkt)
    await dpop.check(request)
    await expect(dpop.check(request)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_REPLAYED', status: 401 })
    expect(() => dpop.checkSync(request)).toThrow(
      expect.objectContaining({ code: 'ERR_DPOP_PROOF_REPLAYED' }),
    )
  })

  it('another proof with a used jti → ERR_DPOP_PROOF_REPLAYED; the same jti from another key is not', async () => {
    const dpop = checkerAt()
    await dpop.check(requestFor(await proof(es256, { jti: 'used' }), jkt))
    const again = requestFor(await proof(es256, { jti: 'used', iat: NOW - 1 }), jkt)
    await expect(dpop.check(again)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_REPLAYED' })
    const otherJkt = await jktOf(other)
    expect(await dpop.check(requestFor(await proof(other, { jti: 'used' }), otherJkt))).toMatchObject({
      jkt: otherJkt,
    })
  })

  it('two checkers sharing a store catch each other’s replays', async () => {
    const store = createMemoryStore()
    const [a, b] = [checkerAt({ store }), checkerAt({ store })]
    const request = requestFor(await proof(es256), jkt)
    await a.check(request)
    await expect(b.check(request)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_REPLAYED' })
  })

  it('a proof refused for another reason is not recorded: the jti stays usable', async () => {
    const dpop = checkerAt()
    const value = await proof(es256)
    await expect(dpop.check(requestFor(value, 'another-jkt'))).rejects.toMatchObject({
      code: 'ERR_DPOP_BINDING_MISMATCH',
    })
    expect(await dpop.check(requestFor(value, jkt))).toMatchObject({ jkt })
  })

  it('the record lasts until the proof is too old everywhere, then leaves the store', async () => {
    const clock = { ms: NOW * 1000 }
    const store = createMemoryStore({ now: () => clock.ms })
    const dpop = checkerAt({ store }, clock)
    await dpop.check(requestFor(await proof(es256, { jti: 'kept' }), jkt))
    // iat + maxAge + 2 × clockTolerance = 360 s: still there a moment before, gone after.
    clock.ms += 359_000
    expect(store.getSync(`dpop:${jkt}:kept`)).toBe('1')
    clock.ms += 1_000
    expect(store.getSync(`dpop:${jkt}:kept`)).toBeUndefined()
  })
})

describe('RFC 9449 §4.3 check 12, §6.1: bound to the access token and its key', () => {
  it.each<[string, Record<string, unknown>, Partial<DpopRequest>, string, string]>([
    ['no ath', { ath: undefined }, {}, 'ERR_DPOP_PROOF_ATH_MISMATCH', 'invalid_dpop_proof'],
    [
      'ath of another token (a proof for another token)',
      { ath: athOf('another') },
      {},
      'ERR_DPOP_PROOF_ATH_MISMATCH',
      'invalid_dpop_proof',
    ],
    [
      'ath in standard base64',
      { ath: Buffer.from(athOf(ACCESS_TOKEN), 'base64url').toString('base64') },
      {},
      'ERR_DPOP_PROOF_ATH_MISMATCH',
      'invalid_dpop_proof',
    ],
    [
      'the proof presented with another token',
      {},
      { accessToken: 'another' },
      'ERR_DPOP_PROOF_ATH_MISMATCH',
      'invalid_dpop_proof',
    ],
    [
      'cnf.jkt of another key',
      {},
      { cnfJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' },
      'ERR_DPOP_BINDING_MISMATCH',
      'invalid_token',
    ],
    [
      'a token without cnf.jkt (not DPoP-bound)',
      {},
      { cnfJkt: undefined },
      'ERR_DPOP_BINDING_MISMATCH',
      'invalid_token',
    ],
    [
      'no access token (a token endpoint): ath and cnf not checked',
      { ath: undefined },
      { accessToken: undefined, cnfJkt: undefined },
      'OK',
      '',
    ],
  ])('%s → %s', async (_why, claims, request, code, error) => {
    const result = await outcome(requestFor(await proof(es256, claims), jkt, request))
    expect(result).toBe(code)
    if (code !== 'OK') expect(new GatehouseError(code as never).error).toBe(error)
  })

  it('says which: a missing ath, a token that is not DPoP-bound', async () => {
    const refusal = async (claims: Record<string, unknown>, request: Partial<DpopRequest>) =>
      checkerAt()
        .check(requestFor(await proof(es256, claims), jkt, request))
        .catch((e: GatehouseError) => e)
    expect(await refusal({ ath: undefined }, {})).toMatchObject({
      description: 'DPoP proof lacks an ath claim',
      cause: { claim: 'ath', reason: 'is missing' },
    })
    expect(await refusal({}, { cnfJkt: undefined })).toMatchObject({
      description: 'Invalid DPoP key binding',
      cause: { claim: 'cnf', reason: 'the token has no cnf.jkt: it is not DPoP-bound' },
    })
  })
})

describe('the error a refusal carries', () => {
  it('401, the RFC 9449 error code, a description naming the check, never the proof', async () => {
    const value = await proof(es256, { htm: 'DELETE' })
    const error = await checkerAt()
      .check(requestFor(value, jkt))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatehouseError)
    expect(error).toMatchObject({
      status: 401,
      error: 'invalid_dpop_proof',
      description: 'DPoP proof htm does not match the request method',
    })
    expect(
      JSON.stringify({ message: (error as Error).message, cause: (error as Error).cause }),
    ).not.toContain(value.split('.')[2])
    expect((error as Error).cause).toEqual({ claim: 'htm', received: 'DELETE', expected: 'GET' })
  })

  it('a signature is checked before the claims: a forged proof learns nothing about its htm', async () => {
    const forged = signSegments(
      ...((await proof(es256, { htm: 'POST' })).split('.').slice(0, 2) as [string, string]),
      other,
    )
    expect(await outcome(requestFor(forged, jkt))).toBe('ERR_DPOP_PROOF_SIGNATURE_INVALID')
  })
})
