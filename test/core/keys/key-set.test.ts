/**
 * KeySet (RFC 7517 §4–5, RFC 7515 §4.1.4) and the local key store built on it: which key fits a token's
 * header, and what happens when none or several do.
 */
import { generateKeyPairSync } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { GatehouseError } from '../../../src/core/errors.js'
import { KeySet } from '../../../src/core/keys/key-set.js'
import { createLocalKeySet } from '../../../src/core/keys/local.js'
import type { Algorithm, JWK, ProtectedHeader } from '../../../src/core/types.js'
import { type TestKey, testKey } from '../../helpers/tokens.js'

let rsa: TestKey
let rsa2: TestKey
let p256: TestKey
let p384: TestKey
let ed: TestKey
beforeAll(async () => {
  rsa = await testKey('RS256', 'rsa-1')
  rsa2 = await testKey('RS256', 'rsa-2')
  p256 = await testKey('ES256', 'ec-1')
  p384 = await testKey('ES384', 'ec-384')
  ed = await testKey('EdDSA', 'ed-1')
})

const header = (alg: Algorithm, kid?: string): ProtectedHeader => (kid === undefined ? { alg } : { alg, kid })
const strip = (jwk: JWK, ...members: string[]): JWK => {
  const copy = { ...jwk }
  for (const m of members) delete copy[m]
  return copy
}

async function resolveCode(set: KeySet, h: ProtectedHeader): Promise<string> {
  try {
    const key = await set.resolve(h)
    return `key:${key.kid ?? '(none)'}`
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError)
    return (error as GatehouseError).code
  }
}

describe('KeySet.parse', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['an array', [{ kty: 'RSA' }]],
    ['a string', '{"keys":[]}'],
    ['an object without keys', { key: [] }],
    ['keys that is not an array', { keys: { kty: 'RSA' } }],
  ])('refuses %s', (_why, document) => {
    expect(() => KeySet.parse(document)).toThrow(TypeError)
  })

  it('skips members that are not objects with a string kty', () => {
    const set = KeySet.parse({ keys: [null, 'x', 42, { kid: 'no-kty' }, { kty: 7 }, rsa.jwk] })
    expect(set.kids()).toEqual(['rsa-1'])
  })

  it('reuses entries equal to those of the previous set, so keys stay imported across refreshes', async () => {
    const first = KeySet.parse({ keys: [rsa.jwk, p256.jwk] })
    const key = await first.resolve(header('RS256', 'rsa-1'))
    const second = KeySet.parse({ keys: [{ ...p256.jwk }, { ...rsa.jwk }] }, first)
    expect(second.contains(key)).toBe(true)
    expect(second.resolveSync(header('RS256', 'rsa-1'))).toBe(key)
    const third = KeySet.parse({ keys: [p256.jwk] }, second)
    expect(third.contains(key)).toBe(false)
  })

  it.each<[string, (jwk: JWK) => JWK]>([
    ['"d" added', (j) => ({ ...j, d: 'AAAA' })],
    ['key_ops added', (j) => ({ ...j, key_ops: ['encrypt'] })],
    ['key_ops changed', (j) => ({ ...j, key_ops: ['verify', 'encrypt'] })],
    ['use changed', (j) => ({ ...j, use: 'enc' })],
    ['alg removed', (j) => strip(j, 'alg')],
    ['an unknown member added', (j) => ({ ...j, x5t: 'abc' })],
    ['a nested member changed', (j) => ({ ...j, x5c: ['MIIB'] })],
  ])('an entry republished with %s is judged afresh, never reused', async (_why, change) => {
    const withOps = { ...rsa.jwk, key_ops: ['verify'] }
    const first = KeySet.parse({ keys: [withOps] })
    const key = await first.resolve(header('RS256', 'rsa-1'))
    const second = KeySet.parse({ keys: [change(withOps)] }, first)
    expect(second.entries[0]).not.toBe(first.entries[0])
    expect(second.contains(key)).toBe(false)
  })

  it('member order does not matter: a reordered JWK is the same entry', async () => {
    const first = KeySet.parse({ keys: [rsa.jwk] })
    const key = await first.resolve(header('RS256', 'rsa-1'))
    const reordered = Object.fromEntries(Object.entries(rsa.jwk).reverse()) as JWK
    expect(KeySet.parse({ keys: [reordered] }, first).contains(key)).toBe(true)
  })

  it('a changed key under the same kid is a new entry (not reused)', async () => {
    const first = KeySet.parse({ keys: [rsa.jwk] })
    const key = await first.resolve(header('RS256', 'rsa-1'))
    const rotated = KeySet.parse({ keys: [{ ...rsa2.jwk, kid: 'rsa-1' }] }, first)
    expect(rotated.contains(key)).toBe(false)
  })
})

describe('KeySet: selection by kid', () => {
  it('picks the key whose kid matches', async () => {
    const set = KeySet.parse({ keys: [rsa.jwk, rsa2.jwk, p256.jwk] })
    expect(await resolveCode(set, header('RS256', 'rsa-2'))).toBe('key:rsa-2')
    expect(await resolveCode(set, header('ES256', 'ec-1'))).toBe('key:ec-1')
  })

  it('an unknown kid is ERR_JWKS_NO_MATCHING_KEY, synchronously and asynchronously', async () => {
    const set = KeySet.parse({ keys: [rsa.jwk] })
    expect(await resolveCode(set, header('RS256', 'nope'))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(() => set.resolveSync(header('RS256', 'nope'))).toThrow(GatehouseError)
    expect(set.has(header('RS256', 'nope'))).toBe(false)
  })

  it('a kid is compared exactly (case, whitespace)', async () => {
    const set = KeySet.parse({ keys: [rsa.jwk] })
    expect(await resolveCode(set, header('RS256', 'RSA-1'))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(await resolveCode(set, header('RS256', 'rsa-1 '))).toBe('ERR_JWKS_NO_MATCHING_KEY')
  })

  it('two keys sharing a kid: the algorithm decides; two of the same type are ambiguous', async () => {
    const mixed = KeySet.parse({
      keys: [
        { ...rsa.jwk, kid: 'same' },
        { ...p256.jwk, kid: 'same' },
      ],
    })
    expect(await resolveCode(mixed, header('ES256', 'same'))).toBe('key:same')
    const twins = KeySet.parse({
      keys: [
        { ...rsa.jwk, kid: 'same' },
        { ...rsa2.jwk, kid: 'same' },
      ],
    })
    expect(await resolveCode(twins, header('RS256', 'same'))).toBe('ERR_JWKS_MULTIPLE_MATCHING_KEYS')
  })
})

describe('KeySet: tokens without kid', () => {
  it('are accepted when exactly one key fits', async () => {
    const set = KeySet.parse({ keys: [rsa.jwk, p256.jwk, ed.jwk] })
    expect(await resolveCode(set, header('ES256'))).toBe('key:ec-1')
    expect(await resolveCode(set, header('EdDSA'))).toBe('key:ed-1')
  })

  it('are ERR_JWKS_MULTIPLE_MATCHING_KEYS when two keys fit', async () => {
    const set = KeySet.parse({ keys: [rsa.jwk, rsa2.jwk] })
    expect(await resolveCode(set, header('RS256'))).toBe('ERR_JWKS_MULTIPLE_MATCHING_KEYS')
    expect(() => set.resolveSync(header('RS256'))).toThrow(/without "kid"/)
  })

  it('count only keys that fit: a second key for another algorithm does not make it ambiguous', async () => {
    const set = KeySet.parse({ keys: [rsa.jwk, { ...rsa2.jwk, alg: 'PS256' }] })
    expect(await resolveCode(set, header('RS256'))).toBe('key:rsa-1')
    expect(await resolveCode(set, header('PS256'))).toBe('key:rsa-2')
  })
})

describe('KeySet: which keys fit (use, key_ops, kty, crv, alg)', () => {
  it.each<[string, (jwk: JWK) => JWK, Algorithm, boolean]>([
    ['use "sig"', (j) => ({ ...j, use: 'sig' }), 'RS256', true],
    ['use absent', (j) => strip(j, 'use'), 'RS256', true],
    ['use "enc"', (j) => ({ ...j, use: 'enc' }), 'RS256', false],
    ['use "SIG" (case matters)', (j) => ({ ...j, use: 'SIG' }), 'RS256', false],
    ['key_ops ["verify"]', (j) => ({ ...j, key_ops: ['verify'] }), 'RS256', true],
    ['key_ops ["sign", "verify"]', (j) => ({ ...j, key_ops: ['sign', 'verify'] }), 'RS256', true],
    ['key_ops ["sign"]', (j) => ({ ...j, key_ops: ['sign'] }), 'RS256', false],
    ['key_ops ["encrypt"]', (j) => ({ ...j, key_ops: ['encrypt'] }), 'RS256', false],
    ['key_ops []', (j) => ({ ...j, key_ops: [] }), 'RS256', false],
    [
      'key_ops "verify" (not an array)',
      (j) => ({ ...j, key_ops: 'verify' as unknown as string[] }),
      'RS256',
      false,
    ],
    ['alg equal to the token alg', (j) => ({ ...j, alg: 'RS256' }), 'RS256', true],
    ['alg RS384 for an RS256 token', (j) => ({ ...j, alg: 'RS384' }), 'RS256', false],
    ['alg RS256 for a PS256 token', (j) => ({ ...j, alg: 'RS256' }), 'PS256', false],
    ['no alg, RS256 token', (j) => strip(j, 'alg'), 'RS256', true],
    ['no alg, PS256 token', (j) => strip(j, 'alg'), 'PS256', true],
    ['no alg, RS512 token', (j) => strip(j, 'alg'), 'RS512', true],
    ['no alg, ES256 token (RSA key)', (j) => strip(j, 'alg'), 'ES256', false],
  ])('RSA key with %s', async (_why, change, alg, fits) => {
    const set = KeySet.parse({ keys: [change(rsa.jwk)] })
    expect(await resolveCode(set, header(alg, 'rsa-1'))).toBe(fits ? 'key:rsa-1' : 'ERR_JWKS_NO_MATCHING_KEY')
  })

  it('skips an EC key on the wrong curve (P-384 key, ES256 token), also without alg on the key', async () => {
    const set = KeySet.parse({ keys: [strip(p384.jwk, 'alg')] })
    // Not even a candidate (has() drives the remote store's refetch decision), before any import.
    expect(set.has(header('ES256', 'ec-384'))).toBe(false)
    expect(set.candidates(header('ES256'))).toHaveLength(0)
    expect(await resolveCode(set, header('ES256', 'ec-384'))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(await resolveCode(set, header('ES384', 'ec-384'))).toBe('key:ec-384')
  })

  it('skips an EC key that lies about its curve (crv P-256, coordinates of P-384)', async () => {
    const set = KeySet.parse({ keys: [{ ...strip(p384.jwk, 'alg'), crv: 'P-256' }] })
    expect(await resolveCode(set, header('ES256', 'ec-384'))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(set.has(header('ES256', 'ec-384'))).toBe(false)
  })

  it('never uses an oct (symmetric) key, whatever its alg says', async () => {
    const set = KeySet.parse({ keys: [{ kty: 'oct', kid: 'hmac', k: 'c2VjcmV0', alg: 'RS256' }] })
    expect(await resolveCode(set, header('RS256', 'hmac'))).toBe('ERR_JWKS_NO_MATCHING_KEY')
  })

  it('refuses a 1024-bit RSA key: no match, with the reason in cause, and never imported later', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const small = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid: 'small' }
    const set = KeySet.parse({ keys: [small] })
    const error = await set.resolve(header('RS256', 'small')).catch((e) => e)
    expect(error).toBeInstanceOf(GatehouseError)
    expect(error.code).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(String(error.cause)).toMatch(/1024/)
    expect(set.has(header('RS256', 'small'))).toBe(false)
    expect(() => set.resolveSync(header('RS256', 'small'))).toThrow(GatehouseError)
  })

  describe('RSA bounds: 2048 to 8192 bits, an odd public exponent from 3 to 2^32 - 1', () => {
    /** A public RSA JWK with an arbitrary odd modulus of `bits` bits (never used to verify, only imported). */
    const modulus = (bits: number) => (): JWK => {
      const bytes = new Uint8Array(Math.ceil(bits / 8)).fill(0xa5) // 0xa5 is odd: so is the modulus
      bytes[0] = 1 << ((bits - 1) % 8) // exactly `bits` bits
      return { kty: 'RSA', kid: 'big', n: Buffer.from(bytes).toString('base64url'), e: 'AQAB' }
    }
    /** The test RSA key with its exponent replaced (only imported, never used to verify). */
    const exponent = (hex: string) => (): JWK => ({
      ...rsa.jwk,
      e: Buffer.from(hex, 'hex').toString('base64url'),
    })

    it.each<[string, () => JWK, string]>([
      ['a 8193-bit modulus', modulus(8193), 'over the 8192-bit maximum'],
      ['a 16384-bit modulus', modulus(16384), 'over the 8192-bit maximum'],
      ['exponent 1', exponent('01'), 'public exponent 1 is refused'],
      ['an even exponent (65536)', exponent('010000'), 'public exponent 65536 is refused'],
      ['exponent 2^32 + 1', exponent('0100000001'), 'public exponent a 33-bit value is refused'],
      ['a 2039-bit exponent', exponent(`7f${'ff'.repeat(254)}`), 'a 2039-bit value'],
    ])('refuses %s: no match, with the reason in cause', async (_why, make, reason) => {
      const jwk = make()
      const set = KeySet.parse({ keys: [jwk] })
      const error = await set.resolve(header('RS256', jwk.kid)).catch((e) => e)
      expect(error).toBeInstanceOf(GatehouseError)
      expect(error.code).toBe('ERR_JWKS_NO_MATCHING_KEY')
      expect(String(error.cause)).toContain(reason)
      expect(set.has(header('RS256', jwk.kid))).toBe(false)
    })

    it.each<[string, () => JWK]>([
      ['an 8192-bit modulus', modulus(8192)],
      ['exponent 3', exponent('03')],
      ['exponent 65537', exponent('010001')],
      ['exponent 2^32 - 1', exponent('ffffffff')],
    ])('accepts %s', async (_why, make) => {
      const jwk = make()
      const set = KeySet.parse({ keys: [jwk] })
      expect(await resolveCode(set, header('RS256', jwk.kid))).toBe(`key:${jwk.kid}`)
    })
  })

  it('refuses a key set entry that publishes a private key ("d")', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const leaked = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: 'leaked' }
    const set = KeySet.parse({ keys: [leaked] })
    const error = await set.resolve(header('ES256', 'leaked')).catch((e) => e)
    expect(error.code).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(String(error.cause)).toMatch(/private/)
  })
})

describe('KeySet: import once, synchronous fast path', () => {
  it('resolveSync is undefined until imported, then the very same key object', async () => {
    const set = KeySet.parse({ keys: [rsa.jwk] })
    expect(set.resolveSync(header('RS256', 'rsa-1'))).toBeUndefined()
    const key = await set.resolve(header('RS256', 'rsa-1'))
    expect(set.resolveSync(header('RS256', 'rsa-1'))).toBe(key)
    expect(await set.resolve(header('RS256', 'rsa-1'))).toBe(key)
    expect(key.alg).toBe('RS256')
    expect(Object.isFrozen(key)).toBe(true)
  })

  it('one JWK without alg is imported once per algorithm', async () => {
    const set = KeySet.parse({ keys: [strip(rsa.jwk, 'alg')] })
    const rs = await set.resolve(header('RS256', 'rsa-1'))
    const ps = await set.resolve(header('PS256', 'rsa-1'))
    expect(rs).not.toBe(ps)
    expect(set.contains(rs) && set.contains(ps)).toBe(true)
  })

  it('contains() is false for a key of another set', async () => {
    const a = KeySet.parse({ keys: [rsa.jwk] })
    const b = KeySet.parse({ keys: [rsa.jwk] })
    const key = await a.resolve(header('RS256', 'rsa-1'))
    expect(b.contains(key)).toBe(false)
  })
})

describe('createLocalKeySet', () => {
  it('is always fresh and resolves like the set', async () => {
    const store = createLocalKeySet({ keys: [rsa.jwk, p256.jwk] })
    expect(store.state).toBe('fresh')
    expect(store.peek(header('ES256', 'ec-1'))).toBeUndefined()
    const key = await store.get(header('ES256', 'ec-1'))
    expect(store.peek(header('ES256', 'ec-1'))).toBe(key)
    expect(store.contains(key)).toBe(true)
    expect(() => store.peek(header('ES256', 'unknown'))).toThrow(GatehouseError)
    await expect(store.get(header('ES256', 'unknown'))).rejects.toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    })
    store.close()
    store.close()
  })

  it('refuses a document that is not a JWK Set with a TypeError naming keys', () => {
    expect(() => createLocalKeySet({} as never)).toThrow(/keys/)
    expect(() => createLocalKeySet(null as never)).toThrow(TypeError)
  })
})
