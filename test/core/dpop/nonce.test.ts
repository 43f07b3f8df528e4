/**
 * Stateless nonces (RFC 9449 §8, §9): HMAC-SHA256 of the period number under a shared secret. The current
 * period's nonce is handed out, the previous and next periods' are accepted, instances with the same
 * secret accept each other's nonces; a checker with nonces on refuses a proof without one, or with a
 * stale or foreign one, with `use_dpop_nonce` and a fresh nonce.
 */
import { createHmac } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { createNonceSource } from '../../../src/core/dpop/nonce.js'
import { GatehouseError } from '../../../src/core/errors.js'
import { NOW, type TestKey, testKey } from '../../helpers/tokens.js'
import { checkerAt, jktOf, proof, requestFor } from './helpers.js'

const SECRET = 'a shared secret of at least 32 bytes, kept out of the code'
const OTHER_SECRET = 'another secret of at least 32 bytes, for another service'
const PERIOD = 60
const at = (seconds: number) => seconds * 1000

describe('createNonceSource', () => {
  it('a nonce is base64url(HMAC-SHA256(secret, "gatehouse dpop nonce " + period number))', () => {
    const nonces = createNonceSource({ secret: SECRET, period: PERIOD })
    const n = Math.floor(NOW / PERIOD)
    const expected = createHmac('sha256', SECRET).update(`gatehouse dpop nonce ${n}`).digest('base64url')
    expect(nonces.current(at(NOW))).toBe(expected)
  })

  it('changes each period; the previous and the next period’s nonces are still accepted, older ones not', () => {
    const nonces = createNonceSource({ secret: SECRET, period: PERIOD })
    const start = Math.floor(NOW / PERIOD) * PERIOD
    const first = nonces.current(at(start)) as string
    expect(nonces.current(at(start + PERIOD - 1))).toBe(first)
    const second = nonces.current(at(start + PERIOD)) as string
    expect(second).not.toBe(first)
    expect(nonces.accepts(first, at(start + PERIOD))).toBe(true) // the previous period
    expect(nonces.accepts(second, at(start))).toBe(true) // the next period: a clock a little ahead
    expect(nonces.accepts(first, at(start + 2 * PERIOD))).toBe(false) // two periods later
    expect(nonces.accepts(second, at(start - PERIOD))).toBe(false) // two periods earlier
    expect(nonces.accepts('made-up', at(start))).toBe(false)
  })

  it('instances with the same secret accept each other’s nonces; another secret does not', () => {
    const [a, b] = [
      createNonceSource({ secret: SECRET }),
      createNonceSource({ secret: new TextEncoder().encode(SECRET) }),
    ]
    const c = createNonceSource({ secret: OTHER_SECRET })
    const nonce = a.current(at(NOW)) as string
    expect(b.accepts(nonce, at(NOW))).toBe(true)
    expect(c.accepts(nonce, at(NOW))).toBe(false)
  })

  it('the secret is copied: changing the caller’s bytes later changes nothing', () => {
    const bytes = new TextEncoder().encode(SECRET)
    const nonces = createNonceSource({ secret: bytes })
    const before = nonces.current(at(NOW))
    bytes.fill(0)
    expect(createNonceSource({ secret: SECRET }).accepts(before as string, at(NOW + 10 * PERIOD))).toBe(false)
    expect(nonces.current(at(NOW + 10 * PERIOD))).toBe(
      createNonceSource({ secret: SECRET }).current(at(NOW + 10 * PERIOD)),
    )
  })

  it.each<[string, unknown, RegExp]>([
    ['a secret of 31 bytes', { secret: 'x'.repeat(31) }, /^nonce\.secret: expected .* at least 32 bytes/],
    ['a secret that is a number', { secret: 12 }, /^nonce\.secret/],
    ['period 0', { secret: SECRET, period: 0 }, /^nonce\.period: expected a number of seconds of at least 1/],
    ['period Infinity', { secret: SECRET, period: Number.POSITIVE_INFINITY }, /^nonce\.period/],
  ])('%s is a TypeError naming the option', (_why, options, message) => {
    expect(() => createNonceSource(options as never)).toThrow(TypeError)
    expect(() => createNonceSource(options as never)).toThrow(message)
  })
})

describe('RFC 9449 §9: a checker with nonces on', () => {
  let key: TestKey
  let jkt: string
  const nonces = createNonceSource({ secret: SECRET, period: PERIOD })
  const start = Math.floor(NOW / PERIOD) * PERIOD
  beforeAll(async () => {
    key = await testKey('ES256')
    jkt = await jktOf(key)
  })
  const checker = (seconds = start) =>
    checkerAt({ nonce: { secret: SECRET, period: PERIOD } }, { ms: at(seconds) })

  it('a proof without a nonce → 401 use_dpop_nonce, ERR_DPOP_NONCE_MISSING, with the nonce to use', async () => {
    const dpop = checker()
    const error = await dpop.check(requestFor(await proof(key, { iat: start }), jkt)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GatehouseError)
    expect(error).toMatchObject({
      code: 'ERR_DPOP_NONCE_MISSING',
      status: 401,
      error: 'use_dpop_nonce',
      dpopNonce: nonces.current(at(start)),
    })
    expect(dpop.currentNonce()).toBe(nonces.current(at(start)))
  })

  it('with the nonce handed out: accepted, and nothing more to send', async () => {
    const nonce = nonces.current(at(start))
    expect(await checker().check(requestFor(await proof(key, { iat: start, nonce }), jkt))).toEqual({
      jkt,
      tokenType: 'dpop',
    })
  })

  it('with the previous period’s nonce: accepted, and the current nonce to send in DPoP-Nonce (§8.2)', async () => {
    const nonce = nonces.current(at(start))
    const later = start + PERIOD
    const result = await checker(later).check(requestFor(await proof(key, { iat: later, nonce }), jkt))
    expect(result).toEqual({ jkt, tokenType: 'dpop', nonce: nonces.current(at(later)) })
  })

  it.each<[string, () => string]>([
    ['a nonce two periods old', () => nonces.current(at(start - 2 * PERIOD)) as string],
    [
      'a nonce from another secret',
      () => createNonceSource({ secret: OTHER_SECRET }).current(at(start)) as string,
    ],
    ['a made-up nonce', () => 'bm9uY2U'],
  ])('%s → ERR_DPOP_NONCE_INVALID with a fresh nonce', async (_why, nonce) => {
    const error = await checker()
      .check(requestFor(await proof(key, { iat: start, nonce: nonce() }), jkt))
      .catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'ERR_DPOP_NONCE_INVALID',
      error: 'use_dpop_nonce',
      dpopNonce: nonces.current(at(start)),
    })
  })

  it('a nonce is no substitute for iat: a stale proof with a good nonce is still too old', async () => {
    const nonce = nonces.current(at(start))
    const request = requestFor(await proof(key, { iat: start - 400, nonce }), jkt)
    await expect(checker().check(request)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_TOO_OLD' })
  })

  it('with nonces off, a nonce a client sends anyway is not checked', async () => {
    const request = requestFor(await proof(key, { nonce: 'whatever' }), jkt)
    expect(await checkerAt().check(request)).toEqual({ jkt, tokenType: 'dpop' })
    expect(checkerAt().currentNonce()).toBeUndefined()
  })
})
