import { readFileSync } from 'node:fs'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createClaimsReader } from '../../../src/core/claims-reader.js'
import { authaction, type PresetResult } from '../../../src/core/presets/index.js'
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

const token = fixture('authaction')
const options = { domain: 'acme.eu.authaction.com', audience: 'https://api.example.com' }

describe('authaction preset', () => {
  it('accepts both issuer spellings AuthAction material uses, and sets the JWKS URL', () => {
    const preset = authaction(options)
    expect(preset.issuer).toEqual(['https://acme.eu.authaction.com/', 'https://acme.eu.authaction.com'])
    expect(preset.jwksUri).toBe('https://acme.eu.authaction.com/.well-known/jwks.json')
    expect(preset.algorithms).toEqual(['RS256'])
  })

  it.each(['https://acme.eu.authaction.com', 'https://acme.eu.authaction.com/'])(
    'accepts a token issued by %s',
    async (iss) => {
      const result = await verify(authaction(options), token, { iss })
      expect([...result.scopes]).toEqual(['read:messages', 'write:messages'])
      expect(result.claims.sub).toBe('c7eXmpl3M2MClient@clients')
    },
  )

  it.each<[string, Record<string, unknown>, string]>([
    ['a look-alike host', { iss: 'https://acme.eu.authaction.com.evil.example' }, 'ERR_JWT_ISSUER_INVALID'],
    ['another tenant', { iss: 'https://other.eu.authaction.com/' }, 'ERR_JWT_ISSUER_INVALID'],
    ['a double slash', { iss: 'https://acme.eu.authaction.com//' }, 'ERR_JWT_ISSUER_INVALID'],
    ['another audience', { aud: 'https://other.example.com' }, 'ERR_JWT_AUDIENCE_INVALID'],
    ['no audience', { aud: undefined }, 'ERR_JWT_CLAIM_MISSING'],
    ['an ID token (nonce)', { nonce: 'n' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
  ])('rejects %s', async (_name, changes, code) => {
    expect(await rejection(verify(authaction(options), token, changes))).toMatchObject({ code })
  })

  it('rejects an ID token audienced to a configured client', async () => {
    const preset = authaction({ ...options, clientIds: ['spa-client-id'] })
    expect(await rejection(verify(preset, token, { aud: 'spa-client-id' }))).toMatchObject({
      code: 'ERR_JWT_AUDIENCE_INVALID',
    })
    expect(
      await rejection(verify(preset, token, { aud: ['https://api.example.com', 'spa-client-id'] })),
    ).toMatchObject({
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
    })
  })

  it.each<[unknown, RegExp]>([
    [
      { ...options, domain: 'https://acme.eu.authaction.com' },
      /^authaction\.domain: expected a host name without scheme/,
    ],
    [{ ...options, domain: '' }, /^authaction\.domain: /],
    [{ domain: 'acme.eu.authaction.com' }, /^authaction\.audience: /],
    [{ ...options, issuer: 'https://x' }, /^authaction\.issuer: unknown option/],
  ])('validates its input: %#', (input, message) => {
    expect(() => authaction(input as Parameters<typeof authaction>[0])).toThrow(message)
  })
})
