/**
 * The DPoP checker as a piece of the request path: options validated at construction, `checkSync`
 * answering without waiting when it can and recording nothing when it cannot, proof keys imported once,
 * stores that must be waited for (or that fail: 503, never an accepted replay), `cnf.jkt` read from
 * claims, and replays caught across checkers sharing one Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDpopChecker } from '../../../src/core/dpop/checker.js'
import { boundThumbprint } from '../../../src/core/dpop/proof.js'
import { GatehouseError } from '../../../src/core/errors.js'
import { createMemoryStore } from '../../../src/core/store/memory.js'
import { createRedisStore } from '../../../src/core/store/redis.js'
import type { Store } from '../../../src/core/store/store.js'
import { PENDING } from '../../../src/core/verify/verifier.js'
import { type TestKey, testKey } from '../../helpers/tokens.js'
import { redisAvailability, startRedis, type TestRedis } from '../store/redis-server.js'
import { checkerAt, jktOf, proof, publicJwk, requestFor } from './helpers.js'

let es256: TestKey
let jkt: string
beforeAll(async () => {
  es256 = await testKey('ES256')
  jkt = await jktOf(es256)
})

/** A store that answers only asynchronously (as Redis does), over a memory store. */
function waitingStore(inner = createMemoryStore()): Store & { calls: number } {
  const store = {
    calls: 0,
    setIfAbsent: (key: string, ttl: number) => {
      store.calls++
      return inner.setIfAbsent(key, ttl)
    },
    get: (key: string) => inner.get(key),
    set: (key: string, value: string, ttl: number) => inner.set(key, value, ttl),
    close: () => inner.close(),
  }
  return store
}

describe('createDpopChecker: options', () => {
  it.each<[string, unknown, RegExp]>([
    ['an unknown option', { maxTokenAge: 5 }, /^dpop\.maxTokenAge: unknown option/],
    [
      'algorithms with none',
      { algorithms: ['ES256', 'none'] },
      /^dpop\.algorithms: expected a non-empty array of asymmetric/,
    ],
    ['algorithms with HS256', { algorithms: ['HS256'] }, /^dpop\.algorithms/],
    ['no algorithms', { algorithms: [] }, /^dpop\.algorithms/],
    ['maxAge 0', { maxAge: 0 }, /^dpop\.maxAge: expected a positive number of seconds, got 0/],
    ['clockTolerance -1', { clockTolerance: -1 }, /^dpop\.clockTolerance/],
    ['a store without setIfAbsent', { store: {} }, /^dpop\.store: expected a store/],
    ['nonce as a string', { nonce: 'secret' }, /^dpop\.nonce: expected \{ secret, period\? \}/],
    ['a short nonce secret', { nonce: { secret: 'short' } }, /^dpop\.nonce\.secret: expected/],
    [
      'maxProofLength 100',
      { maxProofLength: 100 },
      /^dpop\.maxProofLength: expected an integer of at least 256/,
    ],
    ['now that is not a function', { now: 5 }, /^dpop\.now: expected a function/],
    ['options that are not an object', 'strict', /^dpop: expected an options object/],
  ])('%s is a TypeError naming it', (_why, options, message) => {
    expect(() => createDpopChecker(options as never)).toThrow(TypeError)
    expect(() => createDpopChecker(options as never)).toThrow(message)
  })

  it('exposes the accepted algorithms (for a challenge’s algs) and whether checkSync can answer', () => {
    const dpop = createDpopChecker({ algorithms: ['ES256', 'EdDSA'] })
    expect(dpop.algorithms).toEqual(['ES256', 'EdDSA', 'Ed25519']) // RFC 9864's name for EdDSA with Ed25519
    expect(dpop.canCheckSync).toBe(true)
    expect(createDpopChecker().algorithms).toHaveLength(11)
    expect(createDpopChecker({ store: waitingStore() }).canCheckSync).toBe(false)
  })
})

describe('checkSync and check', () => {
  it('a key not seen before: checkSync answers PENDING having recorded nothing; check then accepts', async () => {
    const store = createMemoryStore()
    const dpop = checkerAt({ store })
    const request = requestFor(await proof(es256), jkt)
    expect(dpop.checkSync(request)).toBe(PENDING)
    expect(store.size).toBe(0)
    expect(await dpop.check(request)).toEqual({ jkt, tokenType: 'dpop' })
    expect(store.size).toBe(1)
  })

  it('a key seen before answers in the same tick, even under another header spelling', async () => {
    const dpop = checkerAt()
    await dpop.check(requestFor(await proof(es256), jkt))
    expect(dpop.checkSync(requestFor(await proof(es256), jkt))).toEqual({ jkt, tokenType: 'dpop' })
    // Another header segment for the same key (members in another order, an extra kid): found by thumbprint.
    const { kty, crv, x, y } = publicJwk(es256)
    const respelled = await proof(es256, {}, { jwk: { y, x, crv, kty, kid: 'k1' } })
    expect(dpop.checkSync(requestFor(respelled, jkt))).toEqual({ jkt, tokenType: 'dpop' })
  })

  it('checkSync throws a refusal synchronously', async () => {
    const dpop = checkerAt()
    expect(() => dpop.checkSync(requestFor('nope', jkt))).toThrow(GatehouseError)
    await dpop.check(requestFor(await proof(es256), jkt))
    const wrongMethod = requestFor(await proof(es256, { htm: 'POST' }), jkt)
    expect(() => dpop.checkSync(wrongMethod)).toThrow(
      expect.objectContaining({ code: 'ERR_DPOP_PROOF_HTM_MISMATCH' }),
    )
  })

  it('a key already imported does not let a private member through', async () => {
    const dpop = checkerAt()
    await dpop.check(requestFor(await proof(es256), jkt))
    const leaked = await proof(es256, {}, { jwk: { ...publicJwk(es256), d: 'AAAA' } })
    expect(() => dpop.checkSync(requestFor(leaked, jkt))).toThrow(
      expect.objectContaining({ code: 'ERR_DPOP_PROOF_KEY_INVALID' }),
    )
  })

  it('one RSA key under RS256 then PS256: each algorithm checked with the same key', async () => {
    const rsa = await testKey('RS256')
    const ps = { ...rsa, alg: 'PS256' as const }
    const rsaJkt = await jktOf(rsa)
    const dpop = checkerAt()
    expect(await dpop.check(requestFor(await proof(rsa), rsaJkt))).toMatchObject({ jkt: rsaJkt })
    expect(await dpop.check(requestFor(await proof(ps), rsaJkt))).toMatchObject({ jkt: rsaJkt })
  })

  it('a store that must be waited for: checkSync is PENDING before any work; check records through it', async () => {
    const store = waitingStore()
    const dpop = checkerAt({ store })
    expect(dpop.checkSync(requestFor('not even a proof', jkt))).toBe(PENDING)
    const request = requestFor(await proof(es256), jkt)
    expect(await dpop.check(request)).toEqual({ jkt, tokenType: 'dpop' })
    await expect(dpop.check(request)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_REPLAYED' })
    expect(store.calls).toBe(2)
  })

  it('a store that cannot answer: the 503 reaches the caller, the proof is not accepted', async () => {
    const failing = {
      ...waitingStore(),
      setIfAbsent: () => Promise.reject(new GatehouseError('ERR_STORE_UNAVAILABLE')),
    }
    const error = await checkerAt({ store: failing })
      .check(requestFor(await proof(es256), jkt))
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_STORE_UNAVAILABLE', status: 503 })
  })

  it('close() closes the memory store the checker made, not one passed in', async () => {
    const given = createMemoryStore()
    const withGiven = checkerAt({ store: given })
    await withGiven.check(requestFor(await proof(es256), jkt))
    await withGiven.close()
    expect(given.size).toBe(1)
    const own = checkerAt()
    const request = requestFor(await proof(es256), jkt)
    await own.check(request)
    await own.close()
    await own.close()
    expect(await own.check(request)).toMatchObject({ jkt }) // its records went with the store
  })
})

describe('boundThumbprint: cnf.jkt of the verified claims (RFC 9449 §6.1)', () => {
  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['no cnf', { sub: 'a' }, undefined],
    ['cnf.jkt', { cnf: { jkt: 'abc' } }, 'abc'],
    ['cnf of another confirmation method (mTLS, RFC 8705)', { cnf: { 'x5t#S256': 'abc' } }, undefined],
  ])('%s → %s', (_why, claims, expected) => {
    expect(boundThumbprint(claims)).toBe(expected)
  })

  it.each<[string, Record<string, unknown>]>([
    ['cnf a string', { cnf: 'abc' }],
    ['cnf an array', { cnf: ['abc'] }],
    ['jkt a number', { cnf: { jkt: 1 } }],
    ['jkt empty', { cnf: { jkt: '' } }],
  ])('%s → ERR_JWT_CLAIM_INVALID', (_why, claims) => {
    expect(() => boundThumbprint(claims)).toThrow(expect.objectContaining({ code: 'ERR_JWT_CLAIM_INVALID' }))
  })
})

const availability = redisAvailability()

describe.runIf(availability.available)('replays across instances sharing Redis (RFC 9449 §11.1)', () => {
  let redis: TestRedis
  const stores: Store[] = []
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    for (const store of stores) await store.close()
    await redis?.stop()
  })

  it('two checkers, each with its own Redis client: a proof accepted by one is a replay for the other', async () => {
    const prefix = `gatehouse-test:${process.pid}:${Date.now()}:`
    const [a, b] = [0, 1].map(() => {
      const store = createRedisStore({ url: redis.url, prefix, timeoutDuration: 2000 })
      stores.push(store)
      return checkerAt({ store })
    }) as [ReturnType<typeof checkerAt>, ReturnType<typeof checkerAt>]
    expect(a.canCheckSync).toBe(false)
    const request = requestFor(await proof(es256), jkt)
    expect(await a.check(request)).toEqual({ jkt, tokenType: 'dpop' })
    await expect(b.check(request)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_REPLAYED' })
    // Racing the same fresh proof on both: exactly one accepts.
    const fresh = requestFor(await proof(es256), jkt)
    const outcomes = await Promise.allSettled([
      a.check(fresh),
      b.check(fresh),
      a.check(fresh),
      b.check(fresh),
    ])
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1)
  })
})

if (!availability.available)
  describe('replays across instances sharing Redis (RFC 9449 §11.1)', () => {
    it.skip(`SKIPPED: ${availability.why}`, () => {})
  })
