/**
 * RFC 7515 (JWS) Appendix A examples, as published (test/fixtures/rfc7515/*.json): Gatehouse's parsing
 * and crypto verify A.2 (RS256), A.3 (ES256) and A.4 (ES512), reject A.5 (alg none), and reject every
 * one-character mutation of them.
 *
 * A.2 and A.3 carry a JWT-shaped payload (`iss: "joe"`, an `exp` in 2011, no `aud`), so they also go
 * through createVerifier with a clock set before `exp` and `audience: null`. A.4's payload is the text
 * "Payload": a JWS but not a JWT, so it is checked at the JWS layer only, and the verifier must refuse it.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { verifyAsync, verifySync } from '../../src/core/crypto/signature.js'
import { GatehouseError } from '../../src/core/errors.js'
import { KeySet } from '../../src/core/keys/key-set.js'
import { decodeBase64url } from '../../src/core/lib/base64url.js'
import type { Algorithm, JWK } from '../../src/core/types.js'
import { parseCompactJWS } from '../../src/core/verify/jws.js'
import { createVerifier } from '../../src/core/verify/verifier.js'

interface Example {
  source: string
  alg: Algorithm | 'none'
  jwk?: JWK
  jws: string
  payloadIsJson: boolean
}

const load = (name: string): Example =>
  JSON.parse(readFileSync(new URL(`../fixtures/rfc7515/${name}.json`, import.meta.url), 'utf8'))
const A2 = load('a.2-rs256')
const A3 = load('a.3-es256')
const A4 = load('a.4-es512')
const A5 = load('a.5-none')

/** RFC 7515 A.2–A.3 payload: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true} */
const EXP = 1_300_819_380

/** Verify at the JWS layer: the key comes from a KeySet holding the example's JWK, then crypto. */
async function jwsVerifies(jws: string, jwk: JWK, alg: Algorithm, bothPaths = false): Promise<boolean> {
  const [h, p, s] = jws.split('.')
  if (h === undefined || p === undefined || s === undefined) return false
  const signature = decodeBase64url(s)
  if (signature === undefined) return false
  let header: { alg?: unknown; kid?: unknown }
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'))
  } catch {
    return false
  }
  if (header.alg !== alg) return false
  const key = await KeySet.parse({ keys: [jwk] }).resolve({ alg })
  const input = Buffer.from(`${h}.${p}`, 'latin1')
  const sync = verifySync(alg, key.handle, input, signature)
  if (bothPaths) expect(await verifyAsync(alg, key.handle, input, signature)).toBe(sync)
  return sync
}

/** Every one-character substitution of the token, in every segment (dots kept). */
function* mutations(jws: string): Generator<string> {
  for (let i = 0; i < jws.length; i++) {
    const c = jws[i] as string
    if (c === '.') continue
    const replacement = c === 'A' ? 'B' : c === 'B' ? 'C' : 'A'
    yield jws.slice(0, i) + replacement + jws.slice(i + 1)
  }
}

function joeVerifier(jwk: JWK, nowSeconds = EXP - 60) {
  return createVerifier({
    issuer: 'joe',
    audience: null,
    keys: { keys: [jwk] },
    now: () => nowSeconds * 1000,
  })
}

describe.each([
  ['A.2', A2],
  ['A.3', A3],
])('RFC 7515 Appendix %s', (_section, example) => {
  const alg = example.alg as Algorithm
  const jwk = example.jwk as JWK

  it(`parses: header {"alg":"${example.alg}"} and the JWT claims of the example`, () => {
    const parsed = parseCompactJWS(example.jws, 16_384)
    expect(parsed.header).toEqual({ alg })
    expect(parsed.payload).toEqual({ iss: 'joe', exp: EXP, 'http://example.com/is_root': true })
  })

  it('verifies at the JWS layer (KeySet + crypto, both paths)', async () => {
    expect(await jwsVerifies(example.jws, jwk, alg, true)).toBe(true)
  })

  it('verifies through createVerifier (issuer "joe", audience null, clock before exp)', async () => {
    const { claims, header } = await joeVerifier(jwk).verify(example.jws)
    expect(claims.iss).toBe('joe')
    expect(claims['http://example.com/is_root']).toBe(true)
    expect(header.alg).toBe(alg)
  })

  it('through createVerifier, the same token is expired after 2011 and lacks aud when an audience is required', async () => {
    await expect(joeVerifier(jwk, EXP + 60).verify(example.jws)).rejects.toMatchObject({
      code: 'ERR_JWT_EXPIRED',
    })
    const strict = createVerifier({
      issuer: 'joe',
      audience: 'api',
      keys: { keys: [jwk] },
      now: () => (EXP - 60) * 1000,
    })
    await expect(strict.verify(example.jws)).rejects.toMatchObject({ code: 'ERR_JWT_CLAIM_MISSING' })
  })

  it('rejects every one-character mutation, at the JWS layer and through the verifier', async () => {
    const verifier = joeVerifier(jwk)
    let count = 0
    for (const mutated of mutations(example.jws)) {
      count++
      expect(await jwsVerifies(mutated, jwk, alg), mutated).toBe(false)
      const error = await verifier.verify(mutated).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error, mutated).toBeInstanceOf(GatehouseError)
    }
    expect(count).toBeGreaterThan(100)
  })

  it('is not verified by a key of another example', async () => {
    const other = example === A2 ? (A3.jwk as JWK) : (A2.jwk as JWK)
    await expect(joeVerifier(other).verify(example.jws)).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    })
  })
})

describe('RFC 7515 Appendix A.4 (ES512, payload "Payload")', () => {
  const jwk = A4.jwk as JWK

  it('verifies at the JWS layer (P-521 key, 132-byte r||s signature)', async () => {
    expect(decodeBase64url(A4.jws.split('.')[2] as string)).toHaveLength(132)
    expect(await jwsVerifies(A4.jws, jwk, 'ES512', true)).toBe(true)
  })

  it('rejects every one-character mutation at the JWS layer', async () => {
    for (const mutated of mutations(A4.jws))
      expect(await jwsVerifies(mutated, jwk, 'ES512'), mutated).toBe(false)
  })

  it('is refused by the JWT parser and the verifier: its payload is not a JSON object', async () => {
    expect(() => parseCompactJWS(A4.jws, 16_384)).toThrow(GatehouseError)
    await expect(joeVerifier(jwk).verify(A4.jws)).rejects.toMatchObject({ code: 'ERR_JWT_MALFORMED' })
  })
})

describe('RFC 7515 Appendix A.5 (unsecured JWS, alg none)', () => {
  it('the published token (empty signature) is malformed for Gatehouse', async () => {
    expect(A5.jws.endsWith('.')).toBe(true)
    expect(() => parseCompactJWS(A5.jws, 16_384)).toThrow(GatehouseError)
    await expect(joeVerifier(A2.jwk as JWK).verify(A5.jws)).rejects.toMatchObject({
      code: 'ERR_JWT_MALFORMED',
    })
  })

  it('with any signature part appended, alg none is not allowed', async () => {
    const signed = `${A5.jws}${A2.jws.split('.')[2]}`
    await expect(joeVerifier(A2.jwk as JWK).verify(signed)).rejects.toMatchObject({
      code: 'ERR_JWT_ALG_NOT_ALLOWED',
    })
  })

  it('A.2 relabelled as alg none is rejected, never accepted unsigned', async () => {
    const [, p, s] = A2.jws.split('.')
    await expect(
      joeVerifier(A2.jwk as JWK).verify(`${A5.jws.split('.')[0]}.${p}.${s}`),
    ).rejects.toMatchObject({
      code: 'ERR_JWT_ALG_NOT_ALLOWED',
    })
  })
})
