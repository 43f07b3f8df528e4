import { readFileSync } from 'node:fs'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createClaimsReader } from '../../../src/core/claims-reader.js'
import { auth0, type PresetResult } from '../../../src/core/presets/index.js'
import type { JWK } from '../../../src/core/types.js'
import { createVerifier } from '../../../src/core/verify.js'
import { rejection, testKey } from '../../helpers/tokens.js'

type Fixture = { header: Record<string, unknown>; payload: Record<string, unknown> & { iat: number } }
const fixture = (name: string): Fixture =>
  JSON.parse(readFileSync(new URL(`../../fixtures/presets/${name}.json`, import.meta.url), 'utf8'))

/**
 * Sign the fixture with a test key (`changes` applied; undefined removes a claim) and verify it under the
 * preset with local keys in place of the remote JWKS, the clock at the fixture's iat + 60 s.
 */
async function verify(
  preset: PresetResult,
  { header, payload }: Fixture,
  changes: Record<string, unknown> = {},
  extra: { header?: Record<string, unknown>; jwk?: (jwk: JWK) => JWK } = {},
) {
  const key = await testKey('RS256')
  const claims: Record<string, unknown> = { ...payload, ...changes }
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name]
  const protectedHeader = { ...header, ...extra.header, alg: 'RS256', kid: key.kid }
  const token = await new SignJWT(claims).setProtectedHeader(protectedHeader).sign(key.joseKey)
  const { jwksUri: _jwksUri, discovery: _discovery, ...options } = preset
  const jwk = extra.jwk ? extra.jwk({ ...key.jwk }) : key.jwk
  const verifier = createVerifier({ ...options, keys: { keys: [jwk] }, now: () => (payload.iat + 60) * 1000 })
  try {
    const verified = await verifier.verify(token)
    return { ...verified, ...createClaimsReader(preset.claims)(verified.claims) }
  } finally {
    verifier.close()
  }
}

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

  it('rejects a token audienced to a configured client id', async () => {
    const preset = auth0({ ...options, clientIds: ['K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja'] })
    const idToken = { aud: ['https://api.example.com', 'K1AUPhZq8mRi0Q0pjhkfu1D7y6KjDQja'] }
    expect(await rejection(verify(preset, token, idToken))).toMatchObject({
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
    })
    await expect(verify(preset, token)).resolves.toBeDefined()
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
