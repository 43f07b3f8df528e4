import { describe, expect, it } from 'vitest'
import { authaction } from '../../../src/core/presets/index.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, verify } from './helpers.js'

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
