/**
 * A `node:crypto` that refuses a KeyObject inside `verify`'s options, as workerd's does under the
 * `nodejs_compat` flag, is not used: the signature module falls back to WebCrypto, where ECDSA and RSA-PSS
 * would otherwise throw a TypeError on every token. (test/runtimes/workerd.test.ts checks it on workerd.)
 */
import type * as NodeCrypto from 'node:crypto'
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { JWK } from '../../src/core/types.js'

type SignatureModule = typeof import('../../src/core/crypto/signature.js')
const original = process.getBuiltinModule

/** The signature module loaded afresh, with `node:crypto` replaced by `crypto` while it loads. */
async function loadWith(crypto: unknown): Promise<SignatureModule> {
  process.getBuiltinModule = ((id: string) => (id === 'node:crypto' ? crypto : original(id))) as never
  try {
    vi.resetModules()
    return await import('../../src/core/crypto/signature.js')
  } finally {
    process.getBuiltinModule = original
  }
}

/** Node's own module, except that `verify` refuses `{ key: KeyObject, … }` the way workerd does. */
function refusingKeyOptions(): typeof NodeCrypto {
  const real = original('node:crypto') as typeof NodeCrypto
  return Object.assign(Object.create(real), {
    verify(...args: Parameters<typeof NodeCrypto.verify>) {
      const key = args[2] as { key?: unknown }
      if (typeof key === 'object' && key !== null && 'key' in key && typeof key.key === 'object') {
        throw new TypeError(
          'The "options.key" property must be of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, or Object. Received an instance of PublicKeyObject',
        )
      }
      return real.verify(...args)
    },
  })
}

afterEach(() => {
  process.getBuiltinModule = original
  vi.resetModules()
})

describe('the node:crypto probe', () => {
  it('uses Node’s own node:crypto', async () => {
    expect((await loadWith(original('node:crypto'))).cryptoRuntime).toBe('node')
  })

  it('falls back to WebCrypto where verify refuses a KeyObject in its options, and ES256 still verifies', async () => {
    const web = await loadWith(refusingKeyOptions())
    expect(web.cryptoRuntime).toBe('webcrypto')
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const data = new TextEncoder().encode('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0')
    const signature = sign('sha256', data, { key: privateKey as KeyObject, dsaEncoding: 'ieee-p1363' })
    const handle = await web.importVerificationKey(publicKey.export({ format: 'jwk' }) as JWK, 'ES256')
    expect(await web.verifyAsync('ES256', handle, data, signature)).toBe(true)
    expect(await web.verifyAsync('ES256', handle, data.subarray(1), signature)).toBe(false)
  })
})
