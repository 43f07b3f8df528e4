/**
 * `gatehouse/testing`: key pairs and tokens for unit tests without a server, checked against
 * Gatehouse's verifier (local keys) and against jose as an independent verifier.
 */
import { createLocalJWKSet, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import type { GatehouseError } from '../../src/core/errors.js'
import { ALL_ALGORITHMS, type Algorithm } from '../../src/core/types.js'
import { createVerifier } from '../../src/core/verify/verifier.js'
import { createTestKeys, mintToken, startDevIssuer } from '../../src/testing/index.js'

const ISS = 'https://issuer.test'
const AUD = 'https://api.test'

describe('createTestKeys + mintToken', () => {
  it.each(ALL_ALGORITHMS.map((alg) => [alg]))(
    '%s: the token verifies with the key set, in Gatehouse and jose',
    async (alg) => {
      const keys = await createTestKeys(alg as Algorithm)
      expect(keys.publicJwk).toMatchObject({ kid: keys.kid, alg, use: 'sig' })
      expect(keys.publicJwk).not.toHaveProperty('d')
      const token = await mintToken(keys, { iss: ISS, aud: AUD, sub: 'alice' })
      const verifier = createVerifier({
        issuer: ISS,
        audience: AUD,
        keys: keys.jwks,
        algorithms: [alg as Algorithm],
      })
      const { claims, header } = await verifier.verify(token)
      expect(header).toMatchObject({ alg, kid: keys.kid, typ: 'at+jwt' })
      expect(claims.sub).toBe('alice')
      expect(claims.exp! - claims.iat!).toBe(300)
      await jwtVerify(token, createLocalJWKSet(keys.jwks as never), { issuer: ISS, audience: AUD })
    },
  )

  it('refuses symmetric algorithms', async () => {
    await expect(createTestKeys('HS256' as Algorithm)).rejects.toThrow(TypeError)
  })

  it('forges expired, claim-less, unsigned and mislabelled tokens', async () => {
    const keys = await createTestKeys('ES256')
    const verifier = createVerifier({ issuer: ISS, audience: AUD, keys: keys.jwks })
    const codeOf = (token: string) =>
      verifier.verify(token).then(
        () => undefined,
        (e: GatehouseError) => e.code,
      )
    const claims = { iss: ISS, aud: AUD }
    expect(await codeOf(await mintToken(keys, claims, { expiresIn: -60 }))).toBe('ERR_JWT_EXPIRED')
    expect(await codeOf(await mintToken(keys, { ...claims, exp: undefined }))).toBe('ERR_JWT_CLAIM_MISSING')
    expect(await codeOf(await mintToken(keys, claims, { header: { kid: 'other' } }))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    )
    expect(await codeOf(await mintToken(keys, claims, { header: { alg: 'RS256' } }))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    )
    expect(await codeOf(await mintToken(keys, claims, { header: { alg: 'none' } }))).toBe('ERR_JWT_MALFORMED')
    // The fixed clock puts iat and exp where the test wants them.
    const old = await mintToken(keys, claims, { now: Date.UTC(2020, 0, 1) })
    expect(JSON.parse(Buffer.from(old.split('.')[1]!, 'base64url').toString()).iat).toBe(
      Date.UTC(2020, 0, 1) / 1000,
    )
  })

  it('re-exports the dev issuer', async () => {
    const issuer = await startDevIssuer()
    try {
      const verifier = createVerifier({
        issuer: issuer.issuer,
        audience: issuer.audience,
        jwksUri: issuer.jwksUri,
      })
      await verifier.verify(await issuer.mint())
      verifier.close()
    } finally {
      await issuer.close()
    }
  })
})
