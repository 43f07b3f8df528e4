/**
 * The dev issuer's metadata (RFC 8414 §2, OIDC Discovery §3) and JWKS (RFC 7517 §5): consistent with
 * each other and with where the server really listens, and readable by Gatehouse's own discovery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { discover } from '../../src/core/keys/discovery.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'

let issuer: DevIssuer

beforeAll(async () => {
  issuer = await startDevIssuer()
})
afterAll(() => issuer.close())

async function getJson(path: string) {
  const response = await fetch(`${issuer.url}${path}`)
  return { response, body: (await response.json()) as Record<string, unknown> }
}

describe('discovery documents', () => {
  it('the issuer is the URL it listens on, without a trailing slash', () => {
    expect(issuer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(issuer.issuer).toBe(issuer.url)
    expect(issuer.jwksUri).toBe(`${issuer.url}/.well-known/jwks.json`)
    expect(issuer.tokenEndpoint).toBe(`${issuer.url}/oauth2/token`)
  })

  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    it(`${path} names the right issuer, jwks_uri and token endpoint`, async () => {
      const { response, body } = await getJson(path)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      expect(body.issuer).toBe(issuer.issuer)
      expect(body.jwks_uri).toBe(issuer.jwksUri)
      expect(body.token_endpoint).toBe(issuer.tokenEndpoint)
      expect(body.grant_types_supported).toEqual(['client_credentials'])
      expect(body.scopes_supported).toEqual(['read:messages', 'write:messages'])
    })

    it(`${path} lists the client authentication of every endpoint (RFC 8414 §2)`, async () => {
      const { body } = await getJson(path)
      const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt']
      // Asymmetric only: never `none` (RFC 8414 §2 forbids it here) nor an HMAC.
      const algorithms = [
        'ES256',
        'ES384',
        'ES512',
        'EdDSA',
        'RS256',
        'RS384',
        'RS512',
        'PS256',
        'PS384',
        'PS512',
      ]
      for (const endpoint of ['token_endpoint', 'introspection_endpoint', 'revocation_endpoint']) {
        expect(body[`${endpoint}_auth_methods_supported`]).toEqual(methods)
        expect(body[`${endpoint}_auth_signing_alg_values_supported`]).toEqual(algorithms)
      }
    })

    it(`${path} names an authorization endpoint that supports no response type`, async () => {
      const { body } = await getJson(path)
      expect(body.authorization_endpoint).toBe(`${issuer.url}/oauth2/authorize`)
      expect(body.response_types_supported).toEqual([])
      // No code flow, hence no PKCE; RFC 8707 support is not a registered metadata member.
      expect(body).not.toHaveProperty('code_challenge_methods_supported')
      expect(body).not.toHaveProperty('resource_indicators_supported')
    })
  }

  it('the authorization endpoint refuses every request, without redirecting', async () => {
    const query = '?response_type=code&client_id=demo-client&redirect_uri=https%3A%2F%2Fevil.example%2Fcb'
    for (const method of ['GET', 'POST']) {
      const response = await fetch(`${issuer.url}/oauth2/authorize${query}`, { method, redirect: 'manual' })
      expect(response.status).toBe(400)
      expect(response.headers.get('location')).toBeNull()
      expect(await response.json()).toMatchObject({ error: 'unsupported_response_type' })
    }
    const put = await fetch(`${issuer.url}/oauth2/authorize`, { method: 'PUT' })
    expect(put.status).toBe(405)
    expect(put.headers.get('allow')).toBe('GET, POST')
  })

  it('the OIDC document lists exactly the algorithms of the published keys', async () => {
    const { body } = await getJson('/.well-known/openid-configuration')
    expect(body.id_token_signing_alg_values_supported).toEqual(['RS256'])
    await issuer.mint({}, { alg: 'ES256' }) // publishes an ES256 key
    const again = await getJson('/.well-known/openid-configuration')
    expect(again.body.id_token_signing_alg_values_supported).toEqual(['RS256', 'ES256'])
  })

  it("Gatehouse's discovery accepts the metadata (issuer identical, jwks_uri on loopback)", async () => {
    const metadata = await discover(issuer.issuer)
    expect(metadata.jwks_uri).toBe(issuer.jwksUri)
  })

  it('HEAD answers like GET without a body; other methods get 405 with Allow', async () => {
    const head = await fetch(`${issuer.url}/.well-known/jwks.json`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    const post = await fetch(`${issuer.url}/.well-known/jwks.json`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
  })
})

describe('JWKS', () => {
  it('publishes public signing keys only, each with kid, alg and use', async () => {
    const { response, body } = await getJson('/.well-known/jwks.json')
    expect(response.headers.get('cache-control')).toContain('max-age')
    const keys = body.keys as Record<string, unknown>[]
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) {
      expect(key.use).toBe('sig')
      expect(typeof key.kid).toBe('string')
      expect(['RS256', 'ES256', 'EdDSA']).toContain(key.alg)
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(secret)
    }
  })

  it("the kid in a token's header is in the JWKS", async () => {
    const token = await issuer.mint()
    const { kid } = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }
    const { body } = await getJson('/.well-known/jwks.json')
    expect((body.keys as { kid: string }[]).map((k) => k.kid)).toContain(kid)
  })

  it('unknown paths answer 404 JSON', async () => {
    const { response, body } = await getJson('/nope')
    expect(response.status).toBe(404)
    expect(body.error).toBe('not_found')
  })
})
