/**
 * Opaque tokens, introspection (RFC 7662 §2, signed responses of RFC 9701) and revocation (RFC 7009 §2) on
 * a real dev issuer over HTTP, checked with fetch, with jose against the published JWKS, and with
 * oauth4webapi as a client no one here wrote.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as dpopPackage from 'dpop'
import fc from 'fast-check'
import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CliContext } from '../../src/cli/context.js'
import { run } from '../../src/cli/run.js'
import { type DevClient, type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

const API = { clientId: 'api', clientSecret: 'api-secret', scopes: [] } satisfies DevClient
const OPAQUE = {
  clientId: 'opaque-client',
  clientSecret: 'opaque-secret',
  scopes: ['read:messages', 'write:messages'],
  roles: ['admin'],
  permissions: ['read:messages'],
  claims: { tenant: 'acme' },
  tokenFormat: 'opaque',
} satisfies DevClient
const JWT = {
  clientId: 'jwt-client',
  clientSecret: 'jwt-secret',
  scopes: ['read:messages'],
} satisfies DevClient

let issuer: DevIssuer

beforeAll(async () => {
  issuer = await startDevIssuer({ clients: [API, OPAQUE, JWT] })
})
afterAll(() => issuer.close())

/** RFC 6749 §2.3.1: each part form-urlencoded, then base64 of `id:secret`. */
function basic(client: Pick<DevClient, 'clientId' | 'clientSecret'>): string {
  const enc = (s: string) => new URLSearchParams({ v: s }).toString().slice(2)
  return `Basic ${Buffer.from(`${enc(client.clientId)}:${enc(client.clientSecret!)}`).toString('base64')}`
}

function postForm(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  })
}

async function tokenFor(
  client: DevClient,
  on: DevIssuer = issuer,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown> & { access_token: string }> {
  const response = await postForm(
    on.tokenEndpoint,
    { grant_type: 'client_credentials' },
    { authorization: basic(client), ...headers },
  )
  expect(response.status).toBe(200)
  return (await response.json()) as Record<string, unknown> & { access_token: string }
}

async function introspect(
  token: string,
  on: DevIssuer = issuer,
  client: DevClient = API,
): Promise<Record<string, unknown>> {
  const response = await postForm(
    on.introspectionEndpoint,
    { token, token_type_hint: 'access_token' },
    { authorization: basic(client) },
  )
  expect(response.status).toBe(200)
  expect(response.headers.get('cache-control')).toBe('no-store')
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  return (await response.json()) as Record<string, unknown>
}

function revoke(token: string, client: DevClient, on: DevIssuer = issuer): Promise<Response> {
  return postForm(on.revocationEndpoint, { token }, { authorization: basic(client) })
}

async function expectError(response: Response, status: number, error: string) {
  expect(response.status).toBe(status)
  expect(response.headers.get('cache-control')).toBe('no-store')
  const body = (await response.json()) as Record<string, unknown>
  expect(body).toEqual({ error, error_description: expect.any(String) })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('metadata (RFC 8414 §2, RFC 9701 §6)', () => {
  it.each(['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'])(
    '%s names the endpoints, their client authentication and the signing algorithm',
    async (path) => {
      const body = (await (await fetch(`${issuer.url}${path}`)).json()) as Record<string, unknown>
      expect(body).toMatchObject({
        introspection_endpoint: `${issuer.url}/oauth2/introspect`,
        introspection_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
        ],
        introspection_signing_alg_values_supported: ['RS256'],
        revocation_endpoint: `${issuer.url}/oauth2/revoke`,
        revocation_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
        ],
      })
      expect(issuer.introspectionEndpoint).toBe(body.introspection_endpoint)
      expect(issuer.revocationEndpoint).toBe(body.revocation_endpoint)
    },
  )
})

describe('opaque tokens', () => {
  it('a client with tokenFormat opaque gets a random 256-bit reference and the usual response', async () => {
    const body = await tokenFor(OPAQUE)
    expect(body).toEqual({
      access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'read:messages write:messages',
    })
    expect(Buffer.from(body.access_token, 'base64url')).toHaveLength(32)
    expect((await tokenFor(OPAQUE)).access_token).not.toBe(body.access_token)
  })

  it('is introspected active with every claim a JWT of the same client would carry', async () => {
    const { access_token } = await tokenFor(OPAQUE)
    const before = Math.floor(Date.now() / 1000)
    const claims = await introspect(access_token)
    expect(claims).toEqual({
      active: true,
      iss: issuer.issuer,
      sub: 'opaque-client@clients',
      aud: issuer.audience,
      scope: 'read:messages write:messages',
      client_id: 'opaque-client',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
      token_type: 'Bearer',
      roles: ['admin'],
      permissions: ['read:messages'],
      tenant: 'acme',
    })
    expect(claims.exp as number).toBe((claims.iat as number) + 3600)
    expect(Math.abs((claims.iat as number) - before)).toBeLessThanOrEqual(2)
  })

  it('other clients keep the issuer’s format (JWT by default)', async () => {
    expect((await tokenFor(JWT)).access_token.split('.')).toHaveLength(3)
  })

  it('the issuer option makes every client’s tokens opaque', async () => {
    const opaqueIssuer = await startDevIssuer({ clients: [API, JWT], tokenFormat: 'opaque' })
    try {
      const { access_token } = await tokenFor(JWT, opaqueIssuer)
      expect(access_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(await introspect(access_token, opaqueIssuer)).toMatchObject({
        active: true,
        client_id: 'jwt-client',
      })
      // Tokens live in the issuer that made them.
      expect(await introspect(access_token)).toEqual({ active: false })
    } finally {
      await opaqueIssuer.close()
    }
  })

  it('a DPoP-bound opaque token is introspected with cnf.jkt and token_type DPoP (RFC 9449 §6.2)', async () => {
    const keyPair = await dpopPackage.generateKeyPair('ES256')
    const proof = await dpopPackage.generateProof(keyPair, issuer.tokenEndpoint, 'POST')
    const body = await tokenFor(OPAQUE, issuer, { dpop: proof })
    expect(body.token_type).toBe('DPoP')
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256')
    expect(await introspect(body.access_token)).toMatchObject({
      active: true,
      cnf: { jkt },
      token_type: 'DPoP',
    })
  })

  it('mint({ format: "opaque" }) keeps the given claims, DPoP binding included', async () => {
    const token = await issuer.mint(
      { scope: 'read:messages', aud: 'https://other.example' },
      { format: 'opaque' },
    )
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(await introspect(token)).toMatchObject({
      active: true,
      sub: 'dev-user',
      client_id: 'gatehouse-dev',
      aud: 'https://other.example',
      token_type: 'Bearer',
    })
    const bound = await issuer.mint({ cnf: { jkt: 'thumbprint' } }, { format: 'opaque' })
    expect(await introspect(bound)).toMatchObject({ cnf: { jkt: 'thumbprint' }, token_type: 'DPoP' })
    await expect(issuer.mint({}, { format: 'opaque', kid: 'x' })).rejects.toThrow(TypeError)
  })

  it('memory is bounded: past maxOpaqueTokens the oldest token is dropped and inactive', async () => {
    const small = await startDevIssuer({ clients: [API], maxOpaqueTokens: 3 })
    try {
      const tokens: string[] = []
      for (let i = 0; i < 4; i++) tokens.push(await small.mint({}, { format: 'opaque' }))
      expect(await introspect(tokens[0]!, small)).toEqual({ active: false })
      for (const token of tokens.slice(1)) expect((await introspect(token, small)).active).toBe(true)
      // Expired tokens go before live ones.
      const expired = await small.mint({}, { format: 'opaque', expiresIn: -60 })
      const fresh = await small.mint({}, { format: 'opaque' })
      expect(await introspect(expired, small)).toEqual({ active: false })
      for (const token of [...tokens.slice(2), fresh])
        expect((await introspect(token, small)).active).toBe(true)
    } finally {
      await small.close()
    }
  })
})

describe('introspection (RFC 7662 §2)', () => {
  it('an unknown token, a malformed one and a token of another issuer are inactive, with nothing else', async () => {
    const other = await startDevIssuer({ clients: [API] })
    try {
      const foreignJwt = await other.mint()
      const foreignOpaque = await other.mint({}, { format: 'opaque' })
      for (const token of ['unknown-token', 'a.b.c', 'x'.repeat(43), foreignJwt, foreignOpaque])
        expect(await introspect(token)).toEqual({ active: false })
    } finally {
      await other.close()
    }
  })

  it('an expired opaque token is inactive: minted expired, and issued then outlived', async () => {
    expect(await introspect(await issuer.mint({}, { format: 'opaque', expiresIn: -1 }))).toEqual({
      active: false,
    })
    const shortLived = await startDevIssuer({ clients: [API, JWT], tokenFormat: 'opaque', tokenLifetime: 2 })
    try {
      const { access_token, expires_in } = await tokenFor(JWT, shortLived)
      expect(expires_in).toBe(2)
      const { active, exp } = await introspect(access_token, shortLived)
      expect(active).toBe(true)
      await sleep((exp as number) * 1000 - Date.now() + 50)
      expect(await introspect(access_token, shortLived)).toEqual({ active: false })
    } finally {
      await shortLived.close()
    }
  })

  it('an opaque token not yet valid (nbf) is inactive', async () => {
    const now = Math.floor(Date.now() / 1000)
    expect(await introspect(await issuer.mint({ nbf: now + 600 }, { format: 'opaque' }))).toEqual({
      active: false,
    })
    expect((await introspect(await issuer.mint({ nbf: now - 60 }, { format: 'opaque' }))).active).toBe(true)
  })

  it('a JWT it issued is active with its claims, verified with its own keys', async () => {
    const { access_token } = await tokenFor(JWT)
    const claims = await introspect(access_token)
    expect(claims).toEqual({
      active: true,
      iss: issuer.issuer,
      sub: 'jwt-client@clients',
      aud: issuer.audience,
      scope: 'read:messages',
      client_id: 'jwt-client',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
      token_type: 'Bearer',
    })
  })

  it('JWTs that are expired, unsigned, of another iss, without exp, or not access tokens are inactive', async () => {
    const forged = [
      await issuer.mint({}, { expiresIn: -60 }),
      await issuer.mint({}, { header: { alg: 'none' } }),
      await issuer.mint({ iss: 'https://other.example' }),
      await issuer.mint({ exp: undefined }),
      await issuer.mint({}, { header: { typ: 'JWT' } }),
    ]
    for (const token of forged) expect(await introspect(token)).toEqual({ active: false })
    // A signed introspection response is signed by the same key, and must not pass for a token either.
    const response = await postForm(
      issuer.introspectionEndpoint,
      { token: await issuer.mint() },
      { authorization: basic(API), accept: 'application/token-introspection+jwt' },
    )
    expect(await introspect(await response.text())).toEqual({ active: false })
  })

  it('a DPoP-bound JWT is introspected with token_type DPoP', async () => {
    const token = await issuer.mint({ cnf: { jkt: 'thumbprint' } })
    expect(await introspect(token)).toMatchObject({
      active: true,
      cnf: { jkt: 'thumbprint' },
      token_type: 'DPoP',
    })
  })

  it('client_secret_post authenticates too; any client may introspect any token', async () => {
    const { access_token } = await tokenFor(OPAQUE)
    const response = await postForm(issuer.introspectionEndpoint, {
      token: access_token,
      client_id: JWT.clientId,
      client_secret: JWT.clientSecret,
    })
    expect(response.status).toBe(200)
    expect(((await response.json()) as { active: boolean }).active).toBe(true)
  })

  it('client authentication refused: 401 invalid_client, with a Basic challenge when Basic was used', async () => {
    const { access_token } = await tokenFor(OPAQUE)
    const wrong = await postForm(
      issuer.introspectionEndpoint,
      { token: access_token },
      { authorization: basic({ clientId: 'api', clientSecret: 'wrong' }) },
    )
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /)
    await expectError(wrong, 401, 'invalid_client')
    await expectError(
      await postForm(issuer.introspectionEndpoint, { token: access_token }),
      401,
      'invalid_client',
    )
    const unknown = await postForm(issuer.introspectionEndpoint, {
      token: access_token,
      client_id: 'nobody',
      client_secret: 'api-secret',
    })
    expect(unknown.headers.get('www-authenticate')).toBeNull()
    await expectError(unknown, 401, 'invalid_client')
    await expectError(
      await postForm(
        issuer.introspectionEndpoint,
        { token: access_token },
        { authorization: `Bearer ${access_token}` },
      ),
      401,
      'invalid_client',
    )
  })

  it('malformed requests: 400 invalid_request; other methods 405', async () => {
    const auth = { authorization: basic(API) }
    await expectError(await postForm(issuer.introspectionEndpoint, {}, auth), 400, 'invalid_request')
    const twice = await fetch(issuer.introspectionEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
      body: 'token=a&token=b',
    })
    await expectError(twice, 400, 'invalid_request')
    const json = await fetch(issuer.introspectionEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ token: 'a' }),
    })
    await expectError(json, 400, 'invalid_request')
    const get = await fetch(issuer.introspectionEndpoint)
    expect(get.status).toBe(405)
    expect(get.headers.get('allow')).toBe('POST')
  })
})

describe('signed responses (RFC 9701)', () => {
  const jwks = () => createRemoteJWKSet(new URL(issuer.jwksUri))

  async function signedIntrospection(token: string, accept = 'application/token-introspection+jwt') {
    const response = await postForm(
      issuer.introspectionEndpoint,
      { token },
      { authorization: basic(API), accept },
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(response.headers.get('content-type')).toBe('application/token-introspection+jwt')
    return response.text()
  }

  it('a JWT for the requesting client, signed with a key of the JWKS, carrying the JSON response', async () => {
    const { access_token } = await tokenFor(OPAQUE)
    const jwt = await signedIntrospection(access_token)
    const { payload, protectedHeader } = await jwtVerify(jwt, jwks(), {
      issuer: issuer.issuer,
      audience: API.clientId,
      typ: 'token-introspection+jwt',
      algorithms: ['RS256'],
    })
    expect(protectedHeader.typ).toBe('token-introspection+jwt')
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5)
    // §5: no sub or exp at the top level, so it cannot pass for an access token.
    expect(Object.keys(payload).sort()).toEqual(['aud', 'iat', 'iss', 'token_introspection'])
    expect(payload.token_introspection).toEqual(await introspect(access_token))
  })

  it('an inactive token gets a signed { active: false }; a q=0 or absent JWT type gets JSON', async () => {
    const jwt = await signedIntrospection(
      'unknown',
      'application/json;q=0.5, application/token-introspection+jwt',
    )
    const { payload } = await jwtVerify(jwt, jwks(), { issuer: issuer.issuer, audience: API.clientId })
    expect(payload.token_introspection).toEqual({ active: false })
    for (const accept of ['application/token-introspection+jwt;q=0', 'application/json', '*/*']) {
      const response = await postForm(
        issuer.introspectionEndpoint,
        { token: 'x' },
        { authorization: basic(API), accept },
      )
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    }
  })

  it('signed with the key of the issuer’s algorithm, which the metadata lists', async () => {
    const es = await startDevIssuer({ clients: [API], alg: 'ES256' })
    try {
      const response = await postForm(
        es.introspectionEndpoint,
        { token: await es.mint({}, { format: 'opaque' }) },
        { authorization: basic(API), accept: 'application/token-introspection+jwt' },
      )
      const jwt = await response.text()
      expect(decodeProtectedHeader(jwt).alg).toBe('ES256')
      const metadata = (await (
        await fetch(`${es.url}/.well-known/oauth-authorization-server`)
      ).json()) as Record<string, unknown>
      expect(metadata.introspection_signing_alg_values_supported).toEqual(['ES256'])
      await jwtVerify(jwt, createRemoteJWKSet(new URL(es.jwksUri)), { issuer: es.issuer, audience: 'api' })
    } finally {
      await es.close()
    }
  })
})

describe('revocation (RFC 7009 §2)', () => {
  it('a revoked opaque token is inactive at once; 200 with an empty body, again on a second try', async () => {
    const { access_token } = await tokenFor(OPAQUE)
    expect((await introspect(access_token)).active).toBe(true)
    const response = await revoke(access_token, OPAQUE)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.text()).toBe('')
    expect(await introspect(access_token)).toEqual({ active: false })
    expect((await revoke(access_token, OPAQUE)).status).toBe(200)
  })

  it('a revoked JWT is reported inactive though its signature still verifies', async () => {
    const { access_token } = await tokenFor(JWT)
    expect((await introspect(access_token)).active).toBe(true)
    expect((await revoke(access_token, JWT)).status).toBe(200)
    expect(await introspect(access_token)).toEqual({ active: false })
    // Another token of the same client stays active: revocation is by jti.
    expect((await introspect((await tokenFor(JWT)).access_token)).active).toBe(true)
  })

  it('an unknown token gets 200 (§2.2)', async () => {
    expect((await revoke('never-issued', OPAQUE)).status).toBe(200)
  })

  it('a token of another client is refused with unauthorized_client and stays active (§2.1)', async () => {
    const { access_token } = await tokenFor(OPAQUE)
    await expectError(await revoke(access_token, JWT), 400, 'unauthorized_client')
    expect((await introspect(access_token)).active).toBe(true)
  })

  it('client authentication refused: 401 invalid_client, and nothing is revoked', async () => {
    const { access_token } = await tokenFor(OPAQUE)
    await expectError(await revoke(access_token, { ...OPAQUE, clientSecret: 'wrong' }), 401, 'invalid_client')
    await expectError(
      await postForm(issuer.revocationEndpoint, { token: access_token }),
      401,
      'invalid_client',
    )
    expect((await introspect(access_token)).active).toBe(true)
  })

  it('DevIssuer.revoke revokes any of its tokens, and says whether there was one', async () => {
    const opaque = await issuer.mint({}, { format: 'opaque' })
    const jwt = await issuer.mint()
    expect(await issuer.revoke(opaque)).toBe(true)
    expect(await issuer.revoke(jwt)).toBe(true)
    expect(await issuer.revoke(jwt)).toBe(false)
    expect(await introspect(opaque)).toEqual({ active: false })
    expect(await introspect(jwt)).toEqual({ active: false })
  })
})

describe('oauth4webapi as the client', () => {
  const options = { [oauth.allowInsecureRequests]: true }
  let as: oauth.AuthorizationServer

  beforeAll(async () => {
    const issuerUrl = new URL(issuer.issuer)
    as = await oauth.processDiscoveryResponse(
      issuerUrl,
      await oauth.discoveryRequest(issuerUrl, { ...options, algorithm: 'oauth2' }),
    )
  })

  it('introspects an opaque token (client_secret_basic), then revokes it (client_secret_post)', async () => {
    expect(as.introspection_endpoint).toBe(issuer.introspectionEndpoint)
    expect(as.revocation_endpoint).toBe(issuer.revocationEndpoint)
    const { access_token } = await tokenFor(OPAQUE)
    const api: oauth.Client = { client_id: API.clientId }
    const active = await oauth.processIntrospectionResponse(
      as,
      api,
      await oauth.introspectionRequest(
        as,
        api,
        oauth.ClientSecretBasic(API.clientSecret),
        access_token,
        options,
      ),
    )
    expect(active).toMatchObject({
      active: true,
      client_id: 'opaque-client',
      scope: 'read:messages write:messages',
    })

    const owner: oauth.Client = { client_id: OPAQUE.clientId }
    const revoked = await oauth.revocationRequest(
      as,
      owner,
      oauth.ClientSecretPost(OPAQUE.clientSecret),
      access_token,
      options,
    )
    await expect(oauth.processRevocationResponse(revoked)).resolves.toBeUndefined()

    const after = await oauth.processIntrospectionResponse(
      as,
      api,
      await oauth.introspectionRequest(
        as,
        api,
        oauth.ClientSecretBasic(API.clientSecret),
        access_token,
        options,
      ),
    )
    expect(after.active).toBe(false)
  })

  it('reads the signed response (typ, iss, aud, alg from the metadata)', async () => {
    const { access_token } = await tokenFor(JWT)
    const api: oauth.Client = { client_id: API.clientId }
    const response = await oauth.introspectionRequest(
      as,
      api,
      oauth.ClientSecretPost(API.clientSecret),
      access_token,
      { ...options, requestJwtResponse: true },
    )
    expect(response.headers.get('content-type')).toBe('application/token-introspection+jwt')
    const result = await oauth.processIntrospectionResponse(as, api, response)
    expect(result).toMatchObject({ active: true, client_id: 'jwt-client', token_type: 'Bearer' })
  })

  it('a wrong secret surfaces as invalid_client', async () => {
    const api: oauth.Client = { client_id: API.clientId }
    const response = await oauth.introspectionRequest(
      as,
      api,
      oauth.ClientSecretPost('wrong'),
      'token',
      options,
    )
    const error = await oauth.processIntrospectionResponse(as, api, response).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(oauth.ResponseBodyError)
    expect((error as oauth.ResponseBodyError).error).toBe('invalid_client')
    expect((error as oauth.ResponseBodyError).status).toBe(401)
  })
})

describe('options', () => {
  it.each([
    [{ tokenFormat: 'xml' }, /^tokenFormat:/],
    [{ maxOpaqueTokens: 0 }, /^maxOpaqueTokens:/],
    [{ maxOpaqueTokens: 1.5 }, /^maxOpaqueTokens:/],
  ])('rejects %o with a TypeError naming the option', async (options, message) => {
    const error = await startDevIssuer(options as never).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(message)
  })

  it('rejects a client whose tokenFormat is unknown, naming the member', async () => {
    await expect(startDevIssuer({ clients: [{ ...API, tokenFormat: 'xml' as never }] })).rejects.toThrow(
      /clients\[0\]\.tokenFormat must be one of jwt, opaque/,
    )
  })
})

describe('robustness', () => {
  it('never answers 5xx, whatever the body and headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(issuer.introspectionEndpoint, issuer.revocationEndpoint),
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ maxLength: 200 }).map((token) => new URLSearchParams({ token }).toString()),
        ),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', ''),
        fc.constantFrom(basic(API), basic({ clientId: 'api', clientSecret: 'x' }), 'Basic %%%', ''),
        fc.constantFrom('application/token-introspection+jwt', 'application/json', ''),
        async (url, body, contentType, authorization, accept) => {
          const headers: Record<string, string> = {}
          if (contentType) headers['content-type'] = contentType
          if (authorization) headers.authorization = authorization
          if (accept) headers.accept = accept
          const response = await fetch(url, { method: 'POST', headers, body })
          expect(response.status).toBeLessThan(500)
          await response.arrayBuffer()
        },
      ),
      { numRuns: 80 },
    )
  })
})

describe('gatehouse issuer --format opaque', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-issuer-opaque-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  function context(stop: Promise<string>) {
    const lines: string[] = []
    const ctx: CliContext = {
      env: {},
      cwd: dir,
      out: (line) => lines.push(line),
      err: (line) => lines.push(line),
      color: false,
      readStdin: async () => '',
      waitForShutdown: () => stop,
    }
    return { ctx, lines }
  }

  it('issues opaque tokens to the generated clients and prints the introspection endpoint', async () => {
    let stop: (signal: string) => void = () => undefined
    const { ctx, lines } = context(new Promise((resolve) => (stop = resolve)))
    const exit = run(['issuer', '--port', '0', '--data-dir', dir, '--format', 'opaque'], ctx)
    try {
      for (let i = 0; i < 200 && !lines.includes('Press Ctrl+C to stop.'); i++) await sleep(50)
      const output = lines.join('\n')
      expect(output).toMatch(/token format +opaque/)
      const url = output.match(/issuer +(http:\/\/127\.0\.0\.1:\d+)/)![1]!
      expect(output).toContain(`introspection   ${url}/oauth2/introspect`)
      expect(output).toContain(`revocation      ${url}/oauth2/revoke`)
      const { clients } = JSON.parse(await readFile(join(dir, 'clients.json'), 'utf8')) as {
        clients: DevClient[]
      }
      const [demo] = clients
      const response = await postForm(
        `${url}/oauth2/token`,
        { grant_type: 'client_credentials' },
        {
          authorization: basic(demo!),
        },
      )
      const { access_token } = (await response.json()) as { access_token: string }
      expect(access_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
      const introspected = await postForm(
        `${url}/oauth2/introspect`,
        { token: access_token },
        {
          authorization: basic(demo!),
        },
      )
      expect(await introspected.json()).toMatchObject({ active: true, client_id: demo!.clientId })
    } finally {
      stop('SIGTERM')
      expect(await exit).toBe(0)
    }
  })

  it('refuses an unknown format with a usage error', async () => {
    const { ctx, lines } = context(new Promise(() => undefined))
    expect(await run(['issuer', '--port', '0', '--data-dir', dir, '--format', 'xml'], ctx)).toBe(2)
    expect(lines.join('\n')).toMatch(/--format must be one of jwt, opaque/)
  })
})
