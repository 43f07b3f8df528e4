import { describe, expect, it } from 'vitest'
import { generic } from '../../../src/core/presets/index.js'
import { createVerifier } from '../../../src/core/verify/verifier.js'
import { startJwksServer } from '../../helpers/jwks-server.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, signed, verify } from './helpers.js'

const token = fixture('generic')
const options = { issuer: 'https://authorization-server.example.com/', audience: 'https://rs.example.com/' }

describe('generic preset', () => {
  it("discovers keys ('auto') unless a jwksUri is given", () => {
    expect(generic(options)).toMatchObject({
      issuer: 'https://authorization-server.example.com/',
      discovery: 'auto',
    })
    const fixed = generic({ ...options, jwksUri: 'https://authorization-server.example.com/jwks' })
    expect(fixed.discovery).toBeUndefined()
    expect(fixed.jwksUri).toBe('https://authorization-server.example.com/jwks')
  })

  it('accepts the RFC 9068 example token and reads the default claims', async () => {
    const result = await verify(generic(options), token)
    expect([...result.scopes]).toEqual(['openid', 'profile', 'reademail'])
    expect([...result.groups]).toEqual(['staff'])
    expect([...result.roles]).toEqual(['reviewer'])
  })

  it('requires typ when asked (RFC 9068 strict mode)', async () => {
    const strict = generic({ ...options, typ: 'at+jwt' })
    expect((await verify(strict, token)).header.typ).toBe('at+jwt')
    expect(await rejection(verify(strict, token, {}, { header: { typ: 'JWT' } }))).toMatchObject({
      code: 'ERR_JWT_TYP_INVALID',
    })
  })

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string]>([
    ['a logout token typ', {}, { typ: 'logout+jwt' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['an ID token (nonce)', { nonce: 'n' }, {}, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    [
      'an ID token (aud = client id)',
      { aud: ['https://rs.example.com/', 's6BhdRkqt3'] },
      {},
      'ERR_JWT_NOT_ACCESS_TOKEN',
    ],
  ])('rejects %s', async (_name, changes, header, code) => {
    const preset = generic({ ...options, clientIds: ['s6BhdRkqt3'] })
    expect(await rejection(verify(preset, token, changes, { header }))).toMatchObject({ code })
  })

  it('accepts a custom claim mapping and several issuers', async () => {
    const preset = generic({
      issuer: ['https://old.example.com', 'https://authorization-server.example.com/'],
      audience: null,
      claims: { roles: ['/realm/roles'] },
      validate: (claims) => {
        if (claims.client_id !== 's6BhdRkqt3') throw new Error('unknown client')
      },
    })
    const result = await verify(preset, token, { realm: { roles: ['nested'] } })
    expect([...result.roles]).toEqual(['nested'])
    expect(await rejection(verify(preset, token, { client_id: 'x' }))).toMatchObject({
      message: 'unknown client',
    })
  })

  it.each<[unknown, RegExp]>([
    [{ audience: 'x' }, /^generic\.issuer: /],
    [{ issuer: 'https://x' }, /^generic\.audience: /],
    [{ ...options, typ: [] }, /^generic\.typ: /],
    [{ ...options, claims: { roles: 'x' } }, /^claims\.roles: /],
    [{ ...options, jwks: 'x' }, /^generic\.jwks: unknown option/],
    [{ ...options, issuer: { test: () => true } }, /^generic\.jwksUri: required with an issuer matcher/],
  ])('validates its input: %#', (input, message) => {
    expect(() => generic(input as Parameters<typeof generic>[0])).toThrow(message)
  })
})

describe('generic preset against an authorization server on 127.0.0.1', () => {
  it.each<[string, boolean, string[]]>([
    ['reads jwks_uri from the OpenID Connect metadata', true, ['/.well-known/openid-configuration', '/keys']],
    [
      'without metadata, falls back to {issuer}/.well-known/jwks.json',
      false,
      [
        '/.well-known/openid-configuration',
        '/.well-known/oauth-authorization-server',
        '/.well-known/jwks.json',
      ],
    ],
  ])("discovery 'auto' %s", async (_name, publishesMetadata, paths) => {
    const server = await startJwksServer()
    try {
      const issuer = `${server.origin}/`
      const { token: signedToken, jwk, now } = await signed(token, { iss: issuer })
      server.set(publishesMetadata ? '/keys' : '/.well-known/jwks.json', { json: { keys: [jwk] } })
      if (publishesMetadata)
        server.set('/.well-known/openid-configuration', { json: { issuer, jwks_uri: server.url('/keys') } })
      const verifier = createVerifier({ ...generic({ ...options, issuer }), now })
      try {
        expect((await verifier.verify(signedToken)).claims.iss).toBe(issuer)
      } finally {
        verifier.close()
      }
      expect(server.requests.map((request) => request.path)).toEqual(paths)
    } finally {
      await server.close()
    }
  })
})
