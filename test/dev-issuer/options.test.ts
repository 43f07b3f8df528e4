/**
 * Start-up options (validated once, loopback only unless explicit) and `mint`, the test helper that can
 * forge anything a verifier must refuse.
 */
import { createServer } from 'node:net'
import { decodeProtectedHeader } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GatehouseError } from '../../src/core/errors.js'
import { createVerifier, type Verifier } from '../../src/core/verify/verifier.js'
import { type DevIssuer, isLoopbackHost, startDevIssuer } from '../../src/dev-issuer/index.js'

describe('options', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['example.com', false],
    ['128.0.0.1', false],
  ])('isLoopbackHost(%s) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected)
  })

  it('refuses a non-loopback host, saying it is a development tool and how to override', async () => {
    const error = await startDevIssuer({ host: '0.0.0.0' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/^host: .*development tool.*allowNonLoopback: true/)
  })

  it.each([
    [{ port: 70000 }, /^port:/],
    [{ alg: 'HS256' }, /^alg:/],
    [{ tokenLifetime: 0 }, /^tokenLifetime:/],
    [{ rotationGrace: -1 }, /^rotationGrace:/],
    [{ issuer: 'not a url' }, /^issuer:/],
    [{ dataDir: '' }, /^dataDir:/],
  ])('rejects %o with a TypeError naming the option', async (options, message) => {
    await expect(startDevIssuer(options as never)).rejects.toThrow(message)
  })

  it('reports a port already in use, keeping the system code so callers can pick another port', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as { port: number }
    try {
      const error = await startDevIssuer({ port }).catch((e: unknown) => e)
      expect((error as Error).message).toMatch(/cannot listen on 127\.0\.0\.1:\d+.*EADDRINUSE/)
      expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE')
      expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE')
    } finally {
      blocker.close()
    }
  })

  it('an issuer override is used in tokens and metadata, endpoints stay where the server listens', async () => {
    const issuer = await startDevIssuer({ issuer: 'https://dev.example/tenant', audience: 'urn:api' })
    try {
      const metadata = (await (
        await fetch(`${issuer.url}/.well-known/openid-configuration`)
      ).json()) as Record<string, string>
      expect(metadata.issuer).toBe('https://dev.example/tenant')
      expect(metadata.jwks_uri).toBe(`${issuer.url}/.well-known/jwks.json`)
      const claims = JSON.parse(Buffer.from((await issuer.mint()).split('.')[1]!, 'base64url').toString())
      expect(claims).toMatchObject({ iss: 'https://dev.example/tenant', aud: 'urn:api' })
    } finally {
      await issuer.close()
    }
  })
})

describe('mint', () => {
  let issuer: DevIssuer
  let verifier: Verifier
  beforeAll(async () => {
    issuer = await startDevIssuer()
    verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      keySet: { cooldownDuration: 0 },
    })
  })
  afterAll(async () => {
    verifier.close()
    await issuer.close()
  })

  async function codeOf(token: string): Promise<string | undefined> {
    try {
      await verifier.verify(token)
      return undefined
    } catch (error) {
      return (error as GatehouseError).code
    }
  }

  it('mints a valid token for sub "dev-user" by default, with the given claims', async () => {
    const { claims } = await verifier.verify(await issuer.mint({ scope: 'a b', roles: ['x'] }))
    expect(claims).toMatchObject({ sub: 'dev-user', scope: 'a b', roles: ['x'], client_id: 'gatehouse-dev' })
  })

  it('forges what verifiers must refuse', async () => {
    expect(await codeOf(await issuer.mint({}, { expiresIn: -60 }))).toBe('ERR_JWT_EXPIRED')
    expect(await codeOf(await issuer.mint({ exp: undefined }))).toBe('ERR_JWT_CLAIM_MISSING')
    expect(await codeOf(await issuer.mint({ aud: 'someone-else' }))).toBe('ERR_JWT_AUDIENCE_INVALID')
    expect(await codeOf(await issuer.mint({}, { header: { kid: 'unknown' } }))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    )
    // alg "none": the empty signature already makes it malformed.
    expect(await codeOf(await issuer.mint({}, { header: { alg: 'none' } }))).toBe('ERR_JWT_MALFORMED')
    expect(await codeOf(await issuer.mint({}, { header: { alg: 'HS256' } }))).toBe('ERR_JWT_ALG_NOT_ALLOWED')
    // The right key under a lying alg: no RSA key fits ES256, so the key lookup fails.
    expect(await codeOf(await issuer.mint({}, { header: { alg: 'ES256' } }))).toBe('ERR_JWKS_NO_MATCHING_KEY')
    const tampered = (await issuer.mint()).replace(
      /\.([^.]+)\.([^.]+)$/,
      (_, p: string, s: string) => `.${p}A.${s}`,
    )
    expect(await codeOf(tampered)).not.toBeUndefined()
  })

  it('a header member set to undefined is removed', async () => {
    const token = await issuer.mint({}, { header: { kid: undefined, typ: 'JWT' } })
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT' })
    // Exactly one RS256 key is published, so a token without kid still finds it.
    expect(await codeOf(token)).toBeUndefined()
  })

  it('another alg creates, publishes and signs with a key of that type', async () => {
    const token = await issuer.mint({}, { alg: 'EdDSA' })
    expect(decodeProtectedHeader(token).alg).toBe('EdDSA')
    expect(await codeOf(token)).toBeUndefined()
  })

  it('kid selects a published key, and an unknown kid throws', async () => {
    const [first] = (await issuer.jwks()).keys
    const token = await issuer.mint({}, { kid: first!.kid! })
    expect(decodeProtectedHeader(token).kid).toBe(first!.kid)
    await expect(issuer.mint({}, { kid: 'nope' })).rejects.toThrow(/no published key has kid "nope"/)
  })
})
