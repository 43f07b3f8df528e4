/**
 * The verified-token cache: a hit skips the key lookup and the signature check, but never outlives the
 * token (exp, nbf, iat and maxTokenAge rechecked on every hit), stays bounded (FIFO), and drops tokens
 * whose key left the key set. Hits are proven by counting key store calls and by a clock that moves.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { VerifierOptions } from '../../../src/core/config/options.js'
import { GatehouseError } from '../../../src/core/errors.js'
import { createGate } from '../../../src/core/http/gate.js'
import type { VerifiedToken } from '../../../src/core/types.js'
import { type CachedToken, TokenCache } from '../../../src/core/verify/token-cache.js'
import type { Trust } from '../../../src/core/verify/verifier.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import {
  AUDIENCE,
  codeOf,
  ISSUER,
  jwksOf,
  mint,
  NOW,
  type TestKey,
  TestKeyStore,
  testKey,
} from '../../helpers/tokens.js'

let rsa: TestKey
let other: TestKey
beforeAll(async () => {
  rsa = await testKey('RS256')
  other = await testKey('ES256', 'other')
})

/** A verifier over a counting key store and a clock the test moves (seconds). */
function setup(options: Partial<VerifierOptions> = { cache: true }) {
  const clock = { seconds: NOW }
  const store = new TestKeyStore(jwksOf(rsa))
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keys: store,
    now: () => clock.seconds * 1000,
    ...options,
  })
  return { clock, store, verifier }
}

describe('through the verifier', () => {
  it('a repeated token is served from the cache: no key lookup, the same result object', async () => {
    const { store, verifier } = setup()
    const token = await mint()
    const first = await verifier.verify(token)
    const lookups = store.lookups
    expect(lookups).toBeGreaterThan(0)
    const second = await verifier.verify(token)
    expect(store.lookups).toBe(lookups)
    expect(second).toBe(first)
    expect(Object.isFrozen(second.claims)).toBe(true)
  })

  it('a token that ends as a cached one does (its signature, another payload) is verified, never served', async () => {
    const { verifier } = setup()
    const token = await mint({ sub: 'alice' })
    await verifier.verify(token)
    const [header, , signature] = token.split('.')
    const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: NOW + 600 }))
    const forged = `${header}.${payload.toString('base64url')}.${signature}`
    expect(await codeOf(verifier.verify(forged))).toBe('ERR_JWS_SIGNATURE_INVALID')
    expect(() => verifier.verifySync(forged)).toThrow(GatehouseError)
    // The cached token still answers, from the cache.
    expect((await verifier.verify(token)).claims.sub).toBe('alice')
  })

  it('a token built anew for each request (as an HTTP server gives it) is found', async () => {
    const { store, verifier } = setup()
    const token = await mint()
    const first = await verifier.verify(token)
    const lookups = store.lookups
    // A different string object with the same characters, as each request's header holds.
    const again = `Bearer ${token}`.slice(7)
    expect(await verifier.verify(again)).toBe(first)
    expect(store.lookups).toBe(lookups)
  })

  it('without cache (the default) every verification looks the key up again', async () => {
    const { store, verifier } = setup({})
    const token = await mint()
    await verifier.verify(token)
    const lookups = store.lookups
    await verifier.verify(token)
    expect(store.lookups).toBeGreaterThan(lookups)
  })

  it('an entry expires with the token: exp (+ tolerance) is rechecked on every hit', async () => {
    const { clock, store, verifier } = setup()
    const token = await mint({ exp: NOW + 60 })
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    clock.seconds = NOW + 64
    const lookups = store.lookups
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    expect(store.lookups).toBe(lookups)
    clock.seconds = NOW + 65
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWT_EXPIRED')
  })

  it('nbf is rechecked on every hit (a clock that steps back)', async () => {
    const { clock, verifier } = setup()
    const token = await mint({ nbf: NOW, iat: NOW - 100 })
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    clock.seconds = NOW - 10
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWT_NOT_YET_VALID')
  })

  it('iat in the future is rechecked on every hit', async () => {
    const { clock, verifier } = setup()
    const token = await mint({ iat: NOW })
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    clock.seconds = NOW - 10
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWT_CLAIM_INVALID')
  })

  it('maxTokenAge ends a cached entry before exp', async () => {
    const { clock, verifier } = setup({ cache: true, maxTokenAge: 100 })
    const token = await mint({ iat: NOW, exp: NOW + 3600 })
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    clock.seconds = NOW + 110
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWT_TOO_OLD')
  })

  it('is bounded in entries, first in first out', async () => {
    const { store, verifier } = setup({ cache: { maxEntries: 2 } })
    const [t1, t2, t3] = await Promise.all([mint({ jti: '1' }), mint({ jti: '2' }), mint({ jti: '3' })])
    for (const t of [t1, t2, t3]) await verifier.verify(t as string)
    let lookups = store.lookups
    await verifier.verify(t3 as string)
    await verifier.verify(t2 as string)
    expect(store.lookups).toBe(lookups)
    await verifier.verify(t1 as string) // evicted: verified again (and now evicts t2)
    expect(store.lookups).toBeGreaterThan(lookups)
    lookups = store.lookups
    await verifier.verify(t2 as string)
    expect(store.lookups).toBeGreaterThan(lookups)
  })

  it('is bounded in bytes', async () => {
    const tokens = await Promise.all([mint({ jti: '1' }), mint({ jti: '2' }), mint({ jti: '3' })])
    // Each token counts 2 bytes per character: two of them fit, three do not.
    const length = tokens[0]!.length
    expect(tokens.every((t) => t.length === length)).toBe(true)
    const { store, verifier } = setup({ cache: { maxBytes: length * 4 + 100, maxEntries: 100 } })
    for (const t of tokens) await verifier.verify(t)
    const lookups = store.lookups
    await verifier.verify(tokens[2]!)
    expect(store.lookups).toBe(lookups)
    await verifier.verify(tokens[0]!)
    expect(store.lookups).toBeGreaterThan(lookups)
  })

  it('an entry whose key left the key set is not served', async () => {
    const { store, verifier } = setup()
    const token = await mint()
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    store.replace(jwksOf(other))
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(store.calls.contains).toBeGreaterThan(0)
  })

  it('failures are not cached', async () => {
    const { store, verifier } = setup()
    const token = await mint({ aud: 'https://other.example' })
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWT_AUDIENCE_INVALID')
    const lookups = store.lookups
    expect(await codeOf(verifier.verify(token))).toBe('ERR_JWT_AUDIENCE_INVALID')
    expect(store.lookups).toBeGreaterThan(lookups)
  })

  it('close() empties the cache', async () => {
    const { store, verifier } = setup()
    const token = await mint()
    await verifier.verify(token)
    verifier.close()
    const lookups = store.lookups
    await verifier.verify(token)
    expect(store.lookups).toBeGreaterThan(lookups)
  })

  it("the issuer's validate hook runs on every hit: a jti deny-list that changes refuses a cached token", async () => {
    const revoked = new Set<string>()
    const { store, verifier } = setup({
      cache: true,
      validate: (claims) => {
        if (typeof claims.jti === 'string' && revoked.has(claims.jti))
          throw new GatehouseError('ERR_JWT_CLAIM_INVALID', 'Token has been revoked')
      },
    })
    const token = await mint({ jti: 'session-1' })
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    const lookups = store.lookups
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    expect(store.lookups).toBe(lookups) // a hit

    revoked.add('session-1')
    const error = await verifier.verify(token).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID', description: 'Token has been revoked' })
    expect(() => verifier.verifySync(token)).toThrow('Token has been revoked')
    expect(store.lookups).toBe(lookups) // still answered from the cache, by the hook

    revoked.delete('session-1')
    expect(await codeOf(verifier.verify(token))).toBe('OK')
    expect((verifier.verifySync(token) as VerifiedToken).claims.jti).toBe('session-1')
  })

  it('the hook sees the cached claims and header on a hit, as on the first verification', async () => {
    const seen: unknown[] = []
    const { verifier } = setup({ cache: true, validate: (claims, header) => seen.push([claims, header]) })
    const token = await mint()
    const first = await verifier.verify(token)
    await verifier.verify(token)
    verifier.verifySync(token)
    expect(seen).toEqual([
      [first.claims, first.header],
      [first.claims, first.header],
      [first.claims, first.header],
    ])
    expect((seen[2] as unknown[])[0]).toBe(first.claims)
  })

  it('cache: { maxEntries: 0 } is a TypeError naming the option', () => {
    expect(() => setup({ cache: { maxEntries: 0 } })).toThrow(/cache\.maxEntries/)
    expect(() => setup({ cache: { maxBytes: 100 } })).toThrow(/cache\.maxBytes/)
  })
})

describe('TokenCache', () => {
  const entry = (from: number, until: number) =>
    ({ from, until, verified: {}, key: {}, trust: {} as Trust }) as unknown as CachedToken

  it('returns an entry only inside [from, until), and drops it once outside', () => {
    const cache = new TokenCache({})
    cache.set('t', entry(100, 200))
    expect(cache.get('t', 99)).toBeUndefined()
    expect(cache.size).toBe(0)
    cache.set('t', entry(100, 200))
    expect(cache.get('t', 100)).toBeDefined()
    expect(cache.get('t', 199.9)).toBeDefined()
    expect(cache.get('t', 200)).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('evicts the oldest entry first when full', () => {
    const cache = new TokenCache({ maxEntries: 2 })
    cache.set('a', entry(0, 10))
    cache.set('b', entry(0, 10))
    cache.set('c', entry(0, 10))
    expect(cache.get('a', 1)).toBeUndefined()
    expect(cache.get('b', 1)).toBeDefined()
    expect(cache.get('c', 1)).toBeDefined()
    expect(cache.size).toBe(2)
  })

  it('setting the same token again does not take a second slot or count its bytes twice', () => {
    const cache = new TokenCache({ maxEntries: 2, maxBytes: 1024 })
    const token = 'x'.repeat(256) // 512 bytes
    cache.set(token, entry(0, 10))
    cache.set(token, entry(0, 10))
    cache.set('y'.repeat(256), entry(0, 10))
    expect(cache.size).toBe(2)
    expect(cache.get(token, 1)).toBeDefined()
  })

  it('two tokens with the same end share a slot: the second replaces the first, never answers for it', () => {
    const cache = new TokenCache({ maxBytes: 4096 })
    const end = 'S'.repeat(40)
    const first = `a.b.${end}`
    const second = `c.d.${end}`
    cache.set(first, entry(0, 10))
    expect(cache.get(second, 1)).toBeUndefined()
    expect(cache.get(first, 1)).toBeDefined()
    cache.set(second, entry(0, 10))
    expect(cache.get(first, 1)).toBeUndefined()
    expect(cache.get(second, 1)).toBeDefined()
    expect(cache.size).toBe(1)
    // The replaced token's bytes were given back: 88 + 2000 + 2000 bytes fit in 4096, nothing evicted.
    cache.set('x'.repeat(1000), entry(0, 10))
    cache.set('y'.repeat(1000), entry(0, 10))
    expect(cache.get(second, 1)).toBeDefined()
    expect(cache.size).toBe(3)
  })

  it('never stores a token larger than maxBytes', () => {
    const cache = new TokenCache({ maxBytes: 1024 })
    cache.set('z'.repeat(513), entry(0, 10))
    expect(cache.size).toBe(0)
  })

  it('clear() empties it', () => {
    const cache = new TokenCache({})
    cache.set('a', entry(0, 10))
    cache.clear()
    expect(cache.size).toBe(0)
    expect(cache.get('a', 1)).toBeUndefined()
  })

  it.each([0, -1, 1.5, Number.NaN])('refuses maxEntries %s', (maxEntries) => {
    expect(() => new TokenCache({ maxEntries })).toThrow(TypeError)
  })
})

describe('auth.claims through the gate: frozen exactly when the cache shares them (as AuthContext documents)', () => {
  function gate(cache: boolean) {
    return createGate({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: jwksOf(rsa),
      now: () => NOW * 1000,
      cache,
    })
  }
  const request = (token: string) => ({ method: 'GET', headers: { authorization: `Bearer ${token}` } })

  it('with the cache: deep-frozen, and the same object for every request with the token', async () => {
    const token = await mint({ realm_access: { roles: ['reader'] } })
    const g = gate(true)
    const first = (await g.check(request(token)))!
    const second = (await g.check(request(token)))!
    expect(second.claims).toBe(first.claims)
    expect(Object.isFrozen(first.claims)).toBe(true)
    expect(Object.isFrozen(first.claims.realm_access)).toBe(true)
    expect(() => (first.claims.realm_access as { roles: string[] }).roles.push('admin')).toThrow(TypeError)
    expect(Object.isFrozen(first.header)).toBe(true)
  })

  it("without the cache: each request's own object, not frozen, so a change stays in that request", async () => {
    const token = await mint({ realm_access: { roles: ['reader'] } })
    const g = gate(false)
    const first = (await g.check(request(token)))!
    expect(Object.isFrozen(first.claims)).toBe(false)
    ;(first.claims.realm_access as { roles: string[] }).roles.push('admin')
    const second = (await g.check(request(token)))!
    expect(second.claims).not.toBe(first.claims)
    expect((second.claims.realm_access as { roles: string[] }).roles).toEqual(['reader'])
    // The header is shared by every token with the same header segment: frozen either way.
    expect(Object.isFrozen(second.header)).toBe(true)
  })
})
