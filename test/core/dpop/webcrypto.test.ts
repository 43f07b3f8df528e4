/**
 * The checker on a runtime without node:crypto (Workers-style): hashes, thumbprints, nonces and
 * signatures through WebCrypto, so `check` answers and `checkSync` is always PENDING. The modules are
 * loaded again with `process.getBuiltinModule` hidden, as crypto/signature.test.ts does.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createNonceSource } from '../../../src/core/dpop/nonce.js'
import { NOW, type TestKey, testKey } from '../../helpers/tokens.js'
import { jktOf, proof, requestFor } from './helpers.js'

describe('DPoP without node:crypto', () => {
  let web: typeof import('../../../src/core/dpop/checker.js')
  let digest: typeof import('../../../src/core/crypto/digest.js')
  let thumbprint: typeof import('../../../src/core/dpop/thumbprint.js')
  let verifier: typeof import('../../../src/core/verify/verifier.js')
  let webNonces: typeof import('../../../src/core/dpop/nonce.js')
  let key: TestKey
  let jkt: string
  const original = process.getBuiltinModule

  beforeAll(async () => {
    key = await testKey('ES256')
    jkt = await jktOf(key)
    ;(process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined
    vi.resetModules()
    web = await import('../../../src/core/dpop/checker.js')
    digest = await import('../../../src/core/crypto/digest.js')
    thumbprint = await import('../../../src/core/dpop/thumbprint.js')
    verifier = await import('../../../src/core/verify/verifier.js')
    webNonces = await import('../../../src/core/dpop/nonce.js')
    process.getBuiltinModule = original
  })
  afterAll(() => {
    process.getBuiltinModule = original
    vi.resetModules()
  })

  it('has no synchronous digests', () => {
    expect(digest.canDigestSync).toBe(false)
  })

  it('thumbprints and nonces agree with the node:crypto ones', async () => {
    expect(await thumbprint.jwkThumbprint(key.jwk)).toBe(jkt)
    const secret = 'the same secret of at least thirty-two bytes'
    const onWeb = webNonces.createNonceSource({ secret })
    expect(onWeb.current(NOW * 1000)).toBeUndefined() // not computed yet
    await onWeb.prepare(NOW * 1000)
    expect(onWeb.current(NOW * 1000)).toBe(createNonceSource({ secret }).current(NOW * 1000))
  })

  it('check accepts, and refuses a replay; checkSync is always PENDING', async () => {
    const dpop = web.createDpopChecker({ now: () => NOW * 1000 })
    expect(dpop.canCheckSync).toBe(false)
    const request = requestFor(await proof(key), jkt)
    expect(dpop.checkSync(request)).toBe(verifier.PENDING)
    expect(await dpop.check(request)).toEqual({ jkt, tokenType: 'dpop' })
    await expect(dpop.check(request)).rejects.toMatchObject({ code: 'ERR_DPOP_PROOF_REPLAYED' })
  })

  it('refuses a bad signature, a wrong ath, and asks for a nonce', async () => {
    const dpop = web.createDpopChecker({ now: () => NOW * 1000 })
    const other = await testKey('ES256', 'web-other')
    const [h, p] = (await proof(key)).split('.')
    const [, , s] = (await proof(other)).split('.')
    await expect(dpop.check(requestFor(`${h}.${p}.${s}`, jkt))).rejects.toMatchObject({
      code: 'ERR_DPOP_PROOF_SIGNATURE_INVALID',
    })
    await expect(dpop.check(requestFor(await proof(key), jkt, { accessToken: 'x' }))).rejects.toMatchObject({
      code: 'ERR_DPOP_PROOF_ATH_MISMATCH',
    })
    const withNonces = web.createDpopChecker({
      now: () => NOW * 1000,
      nonce: { secret: 'a secret of at least thirty-two bytes!!' },
    })
    await expect(withNonces.check(requestFor(await proof(key), jkt))).rejects.toMatchObject({
      code: 'ERR_DPOP_NONCE_MISSING',
      dpopNonce: expect.any(String),
    })
  })
})
