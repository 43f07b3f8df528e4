/**
 * Several trusted issuers, each with its own remote key set on a real server: the token's
 * `iss` picks the issuer BEFORE any network request, so an untrusted issuer costs nothing, and a trusted
 * one fetches only its own key set.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier, type Verifier } from '../../../src/core/verify/verifier.js'
import { type JwksServer, startJwksServer } from '../../helpers/jwks-server.js'
import { jwksOf, mint, NOW, type TestKey, testKey } from '../../helpers/tokens.js'

let server: JwksServer
let verifier: Verifier
let a: TestKey
let b: TestKey

beforeAll(async () => {
  a = await testKey('RS256', 'key-a')
  b = await testKey('ES256', 'key-b')
})

afterEach(async () => {
  verifier?.close()
  await server?.close()
})

async function setUp() {
  server = await startJwksServer({
    '/a/jwks.json': { json: jwksOf(a) },
    '/b/.well-known/openid-configuration': {
      json: { issuer: '', jwks_uri: '' }, // replaced below, once the origin is known
    },
    '/b/keys': { json: jwksOf(b) },
  })
  const issuerB = server.url('/b')
  server.set('/b/.well-known/openid-configuration', {
    json: { issuer: issuerB, jwks_uri: server.url('/b/keys') },
  })
  verifier = createVerifier({
    audience: 'api',
    now: () => NOW * 1000, // the helpers' tokens are minted for this clock
    issuers: [
      { issuer: 'https://a.example.com/', jwksUri: server.url('/a/jwks.json') },
      { issuer: issuerB, discovery: true, audience: 'b-api' },
    ],
  })
  return { issuerB }
}

describe('multiple issuers', () => {
  it('rejects an untrusted issuer without a single request, whatever its header asks for', async () => {
    await setUp()
    for (const iss of ['https://evil.example.com/', server.url('/a'), server.url('/b/'), server.origin]) {
      const token = await mint(
        { iss, aud: 'api' },
        { alg: 'RS256', kid: 'key-a', jku: server.url('/a/jwks.json') },
        a,
      )
      await expect(verifier.verify(token)).rejects.toMatchObject({
        code: 'ERR_JWT_ISSUER_INVALID',
        status: 401,
      })
    }
    expect(server.requests).toHaveLength(0)
  })

  it('fetches only the key set of the issuer the token names, and applies that issuer’s audience', async () => {
    const { issuerB } = await setUp()
    const tokenA = await mint(
      { iss: 'https://a.example.com/', aud: 'api' },
      { alg: 'RS256', kid: 'key-a' },
      a,
    )
    expect((await verifier.verify(tokenA)).claims.iss).toBe('https://a.example.com/')
    expect(server.hits('/a/jwks.json')).toBe(1)
    expect(server.requests.filter((r) => r.path.startsWith('/b'))).toHaveLength(0)

    const tokenB = await mint({ iss: issuerB, aud: 'b-api' }, { alg: 'ES256', kid: 'key-b' }, b)
    expect((await verifier.verify(tokenB)).claims.iss).toBe(issuerB)
    expect(server.hits('/b/keys')).toBe(1)

    // B's audience is not A's: the shared default is overridden per issuer.
    const wrongAudience = await mint({ iss: issuerB, aud: 'api' }, { alg: 'ES256', kid: 'key-b' }, b)
    await expect(verifier.verify(wrongAudience)).rejects.toMatchObject({ code: 'ERR_JWT_AUDIENCE_INVALID' })
    // A token claiming A but signed with B's key finds no key in A's set.
    const forged = await mint(
      { iss: 'https://a.example.com/', aud: 'api' },
      { alg: 'ES256', kid: 'key-b' },
      b,
    )
    await expect(verifier.verify(forged)).rejects.toMatchObject({ status: 401 })
  })
})
