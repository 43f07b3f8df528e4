import { describe, expect, it } from 'vitest'
import { auth0 } from '../../../src/core/presets/index.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, verify } from './helpers.js'

const token = fixture('auth0')
const options = { domain: 'tenant.us.auth0.com', audience: 'https://api.example.com' }

describe('auth0 preset', () => {
  it('sets the issuer with its trailing slash, the JWKS URL and RS256/PS256', () => {
    const preset = auth0(options)
    expect(preset.issuer).toBe('https://tenant.us.auth0.com/')
    expect(preset.jwksUri).toBe('https://tenant.us.auth0.com/.well-known/jwks.json')
    expect(preset.algorithms).toEqual(['RS256', 'PS256'])
    expect(preset.audience).toBe('https://api.example.com')
  })

  it('accepts a realistic access token (aud array with /userinfo) and reads scope and permissions', async () => {
    const result = await verify(auth0(options), token)
    expect(result.claims.sub).toBe('auth0|6553da60a54af58e29493993')
    expect([...result.scopes]).toEqual(['openid', 'profile', 'read:messages'])
    expect([...result.permissions]).toEqual(['read:messages', 'delete:messages'])
    expect([...result.roles]).toEqual([])
    expect(result.keyRequests).toEqual(['/.well-known/jwks.json'])
  })

  it('reads namespaced roles when told where', async () => {
    const result = await verify(
      auth0({ ...options, claims: { roles: ['https://example.com/roles'] } }),
      token,
    )
    expect([...result.roles]).toEqual(['admin', 'editor'])
    expect([...result.permissions]).toEqual(['read:messages', 'delete:messages'])
  })

  it.each<[string, Record<string, unknown>, string]>([
    [
      'aud naming only /userinfo',
      { aud: ['https://tenant.us.auth0.com/userinfo'] },
      'ERR_JWT_AUDIENCE_INVALID',
    ],
    ['another API', { aud: 'https://other-api.example.com' }, 'ERR_JWT_AUDIENCE_INVALID'],
    [
      'an issuer without the trailing slash',
      { iss: 'https://tenant.us.auth0.com' },
      'ERR_JWT_ISSUER_INVALID',
    ],
    ['another tenant', { iss: 'https://evil.us.auth0.com/' }, 'ERR_JWT_ISSUER_INVALID'],
    ['an ID token (nonce)', { nonce: 'abc123' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['an ID token (at_hash)', { at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
  ])('rejects %s', async (_name, changes, code) => {
    expect(await rejection(verify(auth0(options), token, changes))).toMatchObject({ code })
  })

  it("rejects a token audienced to a configured client id, and still accepts that client's access tokens", async () => {
    const preset = auth0({ ...options, clientIds: ['K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja'] })
    const idToken = { aud: ['https://api.example.com', 'K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja'] }
    expect(await rejection(verify(preset, token, idToken))).toMatchObject({
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
    })
    // The access token that client requested: azp names it, aud does not.
    const accessToken = await verify(preset, token)
    expect(accessToken.claims.azp).toBe('K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja')
    expect([...accessToken.permissions]).toEqual(['read:messages', 'delete:messages'])
  })

  it('runs a user validate after its own checks', async () => {
    const preset = auth0({
      ...options,
      validate: (claims) => {
        if (claims.azp !== 'allowed-client') throw new Error('not allowed')
      },
    })
    expect(await rejection(verify(preset, token))).toMatchObject({ message: 'not allowed' })
  })

  it.each<[unknown, RegExp]>([
    [
      { ...options, domain: 'https://tenant.us.auth0.com/' },
      /^auth0\.domain: expected a host name without scheme, e\.g\. "tenant\.us\.auth0\.com"/,
    ],
    [{ ...options, domain: 'tenant.us.auth0.com/path' }, /^auth0\.domain: /],
    [{ domain: 'tenant.us.auth0.com' }, /^auth0\.audience: /],
    [{ ...options, audience: [] }, /^auth0\.audience: /],
    [{ ...options, audience: 'https://tenant.us.auth0.com/userinfo' }, /^auth0\.audience: the userinfo URL/],
    [{ ...options, clientId: 'x' }, /^auth0\.clientId: unknown option/],
    [{ ...options, claims: { role: ['x'] } }, /^claims\.role: unknown category/],
    [{ ...options, validate: 'x' }, /^auth0\.validate: /],
    [null, /^auth0: expected an options object/],
  ])('validates its input: %#', (input, message) => {
    expect(() => auth0(input as Parameters<typeof auth0>[0])).toThrow(message)
  })
})
