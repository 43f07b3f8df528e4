import { describe, expect, it } from 'vitest'
import { keycloak } from '../../../src/core/presets/index.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, verify } from './helpers.js'

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
    await expect(verify(keycloak(options), token, { nonce: 'c2f6a4b0' })).resolves.toBeDefined()
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
    await expect(
      verify(preset, token, { aud: ['orders-api', 'account'], azp: 'shop-frontend' }),
    ).resolves.toBeDefined()
  })

  it('an audience equal to clientId is not treated as an ID-token signal', async () => {
    const preset = keycloak({ ...options, clientId: 'orders-api', audience: 'orders-api' })
    await expect(verify(preset, token, { aud: ['orders-api'], azp: 'shop-frontend' })).resolves.toBeDefined()
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
