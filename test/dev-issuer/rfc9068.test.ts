/**
 * Tokens from the dev issuer are RFC 9068 access tokens: the header (§2.1) and claims (§2.2) are right,
 * and they verify with an independent verifier (jose, against the served JWKS) and with Gatehouse's own.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createVerifier } from '../../src/core/verify/verifier.js'
import { type DevAlgorithm, type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

async function fetchToken(
  issuer: DevIssuer,
  clientId: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const client = issuer.clients.find((c) => c.clientId === clientId)!
  const response = await fetch(`${issuer.url}/oauth2/m2m/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: client.clientId,
      client_secret: client.clientSecret,
      audience: issuer.audience,
      grant_type: 'client_credentials',
      ...extra,
    }),
  })
  expect(response.status).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}

describe.each<DevAlgorithm>(['RS256', 'ES256', 'EdDSA'])('%s issuer', (alg) => {
  let issuer: DevIssuer
  beforeAll(async () => {
    issuer = await startDevIssuer({ alg, tokenLifetime: 600 })
  })
  afterAll(() => issuer.close())

  it('signs with typ at+jwt, the alg, and a kid of the JWKS (§2.1)', async () => {
    const token = await fetchToken(issuer, 'demo-client')
    const header = decodeProtectedHeader(token)
    expect(header).toEqual({ alg, typ: 'at+jwt', kid: expect.any(String) })
  })

  it('verifies with jose against the served JWKS, with the RFC 9068 claims', async () => {
    const token = await fetchToken(issuer, 'demo-client')
    const jwks = createRemoteJWKSet(new URL(issuer.jwksUri))
    const { payload } = await jwtVerify(token, jwks, {
      issuer: issuer.issuer,
      audience: issuer.audience,
      typ: 'at+jwt',
      algorithms: [alg],
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
    })
    expect(payload).toMatchObject({
      iss: issuer.issuer,
      sub: 'demo-client@clients',
      aud: issuer.audience,
      client_id: 'demo-client',
      scope: 'read:messages write:messages',
      roles: ['admin'],
      permissions: ['read:messages', 'write:messages', 'read:users'],
    })
    expect(payload.exp! - payload.iat!).toBe(600)
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5)
  })

  it("verifies with Gatehouse's verifier through discovery, typ at+jwt required", async () => {
    const token = await fetchToken(issuer, 'reader-client')
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      discovery: true,
      typ: 'at+jwt',
    })
    try {
      const { claims } = await verifier.verify(token)
      expect(claims.sub).toBe('reader-client@clients')
      expect(claims.scope).toBe('read:messages')
      // An empty roles list is left out rather than sent as [].
      expect(claims).not.toHaveProperty('roles')
    } finally {
      verifier.close()
    }
  })
})

describe('form requests', () => {
  it('client_secret_basic and client_secret_post tokens verify with jose and with Gatehouse', async () => {
    const issuer = await startDevIssuer()
    const verifier = createVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
    })
    try {
      const { clientId, clientSecret } = issuer.clients[0]!
      const form = { 'content-type': 'application/x-www-form-urlencoded' }
      const basic = await fetch(issuer.tokenEndpoint, {
        method: 'POST',
        headers: {
          ...form,
          authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
        },
        body: 'grant_type=client_credentials&scope=read%3Amessages',
      })
      const post = await fetch(issuer.tokenEndpoint, {
        method: 'POST',
        headers: form,
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: clientSecret!,
        }),
      })
      const jwks = createRemoteJWKSet(new URL(issuer.jwksUri))
      for (const response of [basic, post]) {
        expect(response.status).toBe(200)
        const { access_token } = (await response.json()) as { access_token: string }
        const { payload } = await jwtVerify(access_token, jwks, {
          issuer: issuer.issuer,
          audience: issuer.audience,
          typ: 'at+jwt',
        })
        expect(payload.sub).toBe(`${clientId}@clients`)
        expect((await verifier.verify(access_token)).claims.client_id).toBe(clientId)
      }
    } finally {
      verifier.close()
      await issuer.close()
    }
  })
})

describe('token identity', () => {
  it('every token has its own jti', async () => {
    const issuer = await startDevIssuer()
    try {
      const tokens = await Promise.all([1, 2, 3].map(() => fetchToken(issuer, 'demo-client')))
      const jtis = tokens.map((t) => JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()).jti)
      expect(new Set(jtis).size).toBe(3)
    } finally {
      await issuer.close()
    }
  })
})
