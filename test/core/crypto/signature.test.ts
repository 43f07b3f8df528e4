/**
 * The crypto module (RFC 7518 §3): key import rules (type, curve, size, public only) and signature checks
 * on both paths (node:crypto sync and thread pool, and the WebCrypto fallback), against signatures made
 * by node:crypto independently (test/helpers/tokens.ts).
 */
import {
  constants,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  canVerifySync,
  cryptoRuntime,
  importVerificationKey,
  keyTypeFor,
  MIN_RSA_BITS,
  verifyAsync,
  verifySync,
} from '../../../src/core/crypto/signature.js'
import { ALL_ALGORITHMS, type Algorithm, type JWK } from '../../../src/core/types.js'
import { rawToDer, signBytes, type TestKey, testKey } from '../../helpers/tokens.js'

const DATA = new TextEncoder().encode('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0')
const OTHER = new TextEncoder().encode('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ5In0')

function rsaJwk(bits: number): JWK {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  return publicKey.export({ format: 'jwk' }) as JWK
}

const keys = {} as Record<Algorithm, TestKey>
beforeAll(async () => {
  for (const alg of ALL_ALGORITHMS) keys[alg] = await testKey(alg)
})

describe('runtime', () => {
  it('uses node:crypto on Node, with a synchronous path', () => {
    expect(cryptoRuntime).toBe('node')
    expect(canVerifySync).toBe(true)
  })

  it('maps each algorithm to its key family (RFC 7518 §3.1, RFC 8037)', () => {
    expect(keyTypeFor('RS256')).toEqual({ kty: 'RSA' })
    expect(keyTypeFor('PS512')).toEqual({ kty: 'RSA' })
    expect(keyTypeFor('ES256')).toEqual({ kty: 'EC', crv: 'P-256' })
    expect(keyTypeFor('ES384')).toEqual({ kty: 'EC', crv: 'P-384' })
    expect(keyTypeFor('ES512')).toEqual({ kty: 'EC', crv: 'P-521' })
    expect(keyTypeFor('EdDSA')).toEqual({ kty: 'OKP', crv: 'Ed25519' })
  })
})

describe.each(ALL_ALGORITHMS)('%s', (alg) => {
  it('verifies its own signature, sync and on the thread pool', async () => {
    const key = keys[alg]
    const handle = await importVerificationKey(key.jwk, alg)
    const signature = signBytes(alg, key.privateKey, DATA)
    expect(verifySync(alg, handle, DATA, signature)).toBe(true)
    expect(await verifyAsync(alg, handle, DATA, signature)).toBe(true)
  })

  it('rejects the signature over other data, a flipped bit, a truncated or an empty signature', async () => {
    const key = keys[alg]
    const handle = await importVerificationKey(key.jwk, alg)
    const signature = signBytes(alg, key.privateKey, DATA)
    const flipped = Uint8Array.from(signature)
    flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] as number) ^ 0x01
    for (const [data, sig] of [
      [OTHER, signature],
      [DATA, flipped],
      [DATA, signature.subarray(0, signature.length - 1)],
      [DATA, new Uint8Array()],
    ] as const) {
      expect(verifySync(alg, handle, data, sig)).toBe(false)
      expect(await verifyAsync(alg, handle, data, sig)).toBe(false)
    }
  })
})

describe('key import rules', () => {
  it(`refuses RSA keys under ${MIN_RSA_BITS} bits (RFC 7518 §3.3)`, async () => {
    const small = rsaJwk(1024)
    await expect(importVerificationKey(small, 'RS256')).rejects.toThrow(/1024 bits/)
    await expect(importVerificationKey(small, 'PS256')).rejects.toThrow(/2048/)
  })

  it('accepts a 2048-bit RSA key without alg for both RS256 and PS256', async () => {
    const { alg: _alg, ...jwk } = keys.RS256.jwk
    expect(await importVerificationKey(jwk as JWK, 'RS256')).toBeDefined()
    expect(await importVerificationKey(jwk as JWK, 'PS256')).toBeDefined()
  })

  it('refuses a JWK carrying a private key ("d")', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const privateJwk = privateKey.export({ format: 'jwk' }) as JWK
    expect(privateJwk.d).toBeDefined()
    await expect(importVerificationKey(privateJwk, 'ES256')).rejects.toThrow(/private/)
  })

  it.each<[string, Algorithm, Algorithm]>([
    ['an EC key for RS256', 'ES256', 'RS256'],
    ['an RSA key for ES256', 'RS256', 'ES256'],
    ['a P-384 key for ES256', 'ES384', 'ES256'],
    ['a P-256 key for ES512', 'ES256', 'ES512'],
    ['an RSA key for EdDSA', 'RS256', 'EdDSA'],
    ['an Ed25519 key for ES256', 'EdDSA', 'ES256'],
  ])('refuses %s', async (_why, keyAlg, alg) => {
    const { alg: _a, crv: _c, ...rest } = keys[keyAlg].jwk
    // The JWK's own crv is kept: only the token's alg differs.
    await expect(importVerificationKey({ ...rest, crv: keys[keyAlg].jwk.crv } as JWK, alg)).rejects.toThrow()
  })

  it('refuses an X25519 (key agreement) OKP key for EdDSA', async () => {
    const { publicKey } = generateKeyPairSync('x25519')
    await expect(importVerificationKey(publicKey.export({ format: 'jwk' }) as JWK, 'EdDSA')).rejects.toThrow()
  })
})

describe('signature encodings', () => {
  it.each<Algorithm>(['ES256', 'ES384', 'ES512'])(
    '%s: refuses a DER-encoded signature (RFC 7518 §3.4: raw r||s only)',
    async (alg) => {
      const key = keys[alg]
      const handle = await importVerificationKey(key.jwk, alg)
      const raw = signBytes(alg, key.privateKey, DATA)
      const der = nodeSign(`sha${alg.slice(-3)}`, DATA, { key: key.privateKey, dsaEncoding: 'der' })
      // Our DER conversion is right: node:crypto accepts it as a DER signature.
      const publicKey = createPublicKey({ key: key.jwk as JsonWebKey, format: 'jwk' })
      expect(
        nodeVerify(`sha${alg.slice(-3)}`, DATA, { key: publicKey, dsaEncoding: 'der' }, rawToDer(raw)),
      ).toBe(true)
      expect(verifySync(alg, handle, DATA, raw)).toBe(true)
      expect(verifySync(alg, handle, DATA, der)).toBe(false)
      expect(verifySync(alg, handle, DATA, rawToDer(raw))).toBe(false)
      expect(await verifyAsync(alg, handle, DATA, rawToDer(raw))).toBe(false)
    },
  )

  it('PS256: refuses a PSS signature whose salt is not the hash length (RFC 7518 §3.5)', async () => {
    const key = keys.PS256
    const handle = await importVerificationKey(key.jwk, 'PS256')
    const saltless = nodeSign('sha256', DATA, {
      key: key.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 0,
    })
    expect(verifySync('PS256', handle, DATA, saltless)).toBe(false)
    expect(await verifyAsync('PS256', handle, DATA, saltless)).toBe(false)
  })

  it('an RS256 signature does not pass as PS256 or RS384 with the same key, nor the reverse', async () => {
    const { alg: _alg, ...jwk } = keys.RS256.jwk
    const rs256 = await importVerificationKey(jwk as JWK, 'RS256')
    const ps256 = await importVerificationKey(jwk as JWK, 'PS256')
    const rs384 = await importVerificationKey(jwk as JWK, 'RS384')
    const pkcs1 = signBytes('RS256', keys.RS256.privateKey, DATA)
    const pss = signBytes('PS256', keys.RS256.privateKey, DATA)
    expect(verifySync('RS256', rs256, DATA, pkcs1)).toBe(true)
    expect(verifySync('PS256', ps256, DATA, pss)).toBe(true)
    expect(verifySync('PS256', ps256, DATA, pkcs1)).toBe(false)
    expect(verifySync('RS256', rs256, DATA, pss)).toBe(false)
    expect(verifySync('RS384', rs384, DATA, pkcs1)).toBe(false)
  })
})

describe('WebCrypto fallback (no node:crypto)', () => {
  let web: typeof import('../../../src/core/crypto/signature.js')
  const original = process.getBuiltinModule

  beforeAll(async () => {
    ;(process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined
    vi.resetModules()
    web = await import('../../../src/core/crypto/signature.js')
    process.getBuiltinModule = original
  })
  afterAll(() => {
    process.getBuiltinModule = original
    vi.resetModules()
  })

  it('reports the webcrypto runtime and no synchronous path', () => {
    expect(web.cryptoRuntime).toBe('webcrypto')
    expect(web.canVerifySync).toBe(false)
  })

  it.each(ALL_ALGORITHMS)('%s: verifies a good signature and rejects a bad one', async (alg) => {
    const key = keys[alg]
    const handle = await web.importVerificationKey(key.jwk, alg)
    const signature = signBytes(alg, key.privateKey, DATA)
    expect(await web.verifyAsync(alg, handle, DATA, signature)).toBe(true)
    expect(await web.verifyAsync(alg, handle, OTHER, signature)).toBe(false)
  })

  it('applies the same import rules: RSA under 2048 bits, private keys, wrong curve', async () => {
    await expect(web.importVerificationKey(rsaJwk(1024), 'RS256')).rejects.toThrow(/1024/)
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    await expect(
      web.importVerificationKey(privateKey.export({ format: 'jwk' }) as JWK, 'ES256'),
    ).rejects.toThrow(/private/)
    await expect(web.importVerificationKey(keys.ES384.jwk, 'ES256')).rejects.toThrow()
  })

  it('offload goes through WebCrypto too, with the same answers', async () => {
    const offload = web.openOffload()
    try {
      for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
        const handle = await web.importVerificationKey(keys[alg].jwk, alg)
        const signature = signBytes(alg, keys[alg].privateKey, DATA)
        expect(await offload.verify(alg, handle, DATA, signature)).toBe(true)
        expect(await offload.verify(alg, handle, OTHER, signature)).toBe(false)
      }
    } finally {
      offload.close()
    }
  })

  it('refuses DER-encoded ECDSA signatures', async () => {
    const handle = await web.importVerificationKey(keys.ES256.jwk, 'ES256')
    const raw = signBytes('ES256', keys.ES256.privateKey, DATA)
    expect(await web.verifyAsync('ES256', handle, DATA, rawToDer(raw))).toBe(false)
  })
})
