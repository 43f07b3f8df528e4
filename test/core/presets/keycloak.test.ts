import { describe, expect, it } from 'vitest'
import { keycloak } from '../../../src/core/presets/index.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import { startJwksServer } from '../../helpers/jwks-server.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, signed, verify } from './helpers.js'

const token = fixture('keycloak')
const idToken = fixture('keycloak-id-token')
const options = { url: 'https://kc.example.com/', realm: 'shop', clientId: 'shop-api' }

describe('keycloak preset', () => {
  it('builds the realm issuer and certs URL, and checks azp when no audience is given', () => {
    const preset = keycloak(options)
    expect(preset.issuer).toBe('https://kc.example.com/realms/shop')
    expect(preset.jwksUri).toBe('https://kc.example.com/realms/shop/protocol/openid-connect/certs')
    expect(preset.audience).toBeNull()
    expect(preset.algorithms).toBeUndefined()
    expect(
      keycloak({ ...options, url: undefined, baseUrl: 'https://kc.example.com/auth', discovery: true }),
    ).toMatchObject({
      issuer: 'https://kc.example.com/auth/realms/shop',
      discovery: true,
    })
  })

  it('accepts a realistic access token; realm roles as roles, client roles as permissions, groups', async () => {
    const result = await verify(keycloak(options), token)
    expect([...result.roles]).toEqual(['default-roles-shop', 'offline_access', 'uma_authorization', 'admin'])
    expect([...result.permissions]).toEqual(['orders:write', 'orders:read'])
    expect([...result.groups]).toEqual(['/staff', '/staff/Sales Team'])
    expect([...result.scopes]).toEqual(['openid', 'profile', 'email'])
  })

  it('accepts a Keycloak < 25 access token that carries the login nonce', async () => {
    const old = await verify(keycloak(options), token, { nonce: 'c2f6a4b0' })
    expect(old.claims).toMatchObject({ nonce: 'c2f6a4b0', typ: 'Bearer', azp: 'shop-api' })
    expect([...old.permissions]).toEqual(['orders:write', 'orders:read'])
  })

  it('rejects the ID token of the same login', async () => {
    expect(await rejection(verify(keycloak(options), idToken))).toMatchObject({
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
    })
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['another client (azp)', { azp: 'other-client' }, 'ERR_JWT_CLAIM_INVALID'],
    ['no azp', { azp: undefined }, 'ERR_JWT_CLAIM_MISSING'],
    ['a refresh token', { typ: 'Refresh' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['an ID token (typ ID)', { typ: 'ID' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['aud = the client (only ID tokens are)', { aud: 'shop-api' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['another realm', { iss: 'https://kc.example.com/realms/master' }, 'ERR_JWT_ISSUER_INVALID'],
  ])('rejects %s', async (_name, changes, code) => {
    expect(await rejection(verify(keycloak(options), token, changes))).toMatchObject({ code })
  })

  it('with an audience, checks aud instead of azp', async () => {
    const preset = keycloak({ ...options, audience: 'orders-api' })
    expect(await rejection(verify(preset, token))).toMatchObject({ code: 'ERR_JWT_AUDIENCE_INVALID' })
    const fromFrontend = await verify(preset, token, { aud: ['orders-api', 'account'], azp: 'shop-frontend' })
    expect(fromFrontend.claims).toMatchObject({ aud: ['orders-api', 'account'], azp: 'shop-frontend' })
    expect([...fromFrontend.permissions]).toEqual(['orders:write', 'orders:read'])
  })

  it('an audience equal to clientId is not treated as an ID-token signal', async () => {
    const preset = keycloak({ ...options, clientId: 'orders-api', audience: 'orders-api' })
    const result = await verify(preset, token, { aud: ['orders-api'], azp: 'shop-frontend' })
    expect(result.claims.aud).toEqual(['orders-api'])
    // The client roles read are those of clientId, and the token carries none for orders-api.
    expect([...result.permissions]).toEqual([])
    // What still marks an ID token for that client: Keycloak's typ claim.
    expect(await rejection(verify(preset, token, { aud: ['orders-api'], typ: 'ID' }))).toMatchObject({
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
    })
  })

  it('allows loopback http for development', () => {
    expect(keycloak({ ...options, url: 'http://localhost:8080' }).issuer).toBe(
      'http://localhost:8080/realms/shop',
    )
  })

  it.each<[unknown, RegExp]>([
    [{ ...options, url: 'http://kc.example.com' }, /^keycloak\.url: expected an https URL/],
    [{ ...options, url: 'https://kc.example.com?x=1' }, /^keycloak\.url: expected a URL without query/],
    [{ ...options, baseUrl: 'https://kc.example.com' }, /^keycloak\.baseUrl: give url or baseUrl, not both/],
    [{ ...options, realm: 'a/b' }, /^keycloak\.realm: expected a realm name, not a path/],
    [{ ...options, realm: '' }, /^keycloak\.realm: /],
    [{ ...options, clientId: undefined }, /^keycloak\.clientId: /],
    [{ ...options, audience: [] }, /^keycloak\.audience: /],
  ])('validates its input: %#', (input, message) => {
    expect(() => keycloak(input as Parameters<typeof keycloak>[0])).toThrow(message)
  })
})

describe('keycloak preset against a Keycloak stand-in on 127.0.0.1', () => {
  it.each([false, true])(
    'discovery %s: fetches the keys where Keycloak publishes them',
    async (discovery) => {
      const server = await startJwksServer()
      try {
        const issuer = `${server.origin}/realms/shop`
        const { token: signedToken, jwk, now } = await signed(token, { iss: issuer })
        server.set('/realms/shop/protocol/openid-connect/certs', { json: { keys: [jwk] } })
        server.set('/realms/shop/.well-known/openid-configuration', {
          json: { issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` },
        })
        const preset = keycloak({ url: server.origin, realm: 'shop', clientId: 'shop-api', discovery })
        const verifier = createVerifier({ ...preset, now })
        try {
          expect((await verifier.verify(signedToken)).claims.iss).toBe(issuer)
        } finally {
          verifier.close()
        }
        expect(server.requests.map((request) => request.path)).toEqual([
          ...(discovery ? ['/realms/shop/.well-known/openid-configuration'] : []),
          '/realms/shop/protocol/openid-connect/certs',
        ])
      } finally {
        await server.close()
      }
    },
  )
})
