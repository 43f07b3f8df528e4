/**
 * RFC 7638 JWK thumbprints: the RFC's own RSA vector (§3.1), RFC 9449's example key (whose thumbprint
 * is the `cnf.jkt` of its §6.1 example), and agreement with jose (an independent implementation) for
 * EC, RSA and OKP keys, whatever other members the JWK carries.
 */
import { readFileSync } from 'node:fs'
import { calculateJwkThumbprint } from 'jose'
import { describe, expect, it } from 'vitest'
import { jwkThumbprint, jwkThumbprintSync, thumbprintInput } from '../../../src/core/dpop/thumbprint.js'
import type { JWK } from '../../../src/core/types.js'
import { testKey } from '../../helpers/tokens.js'

const fixture = <T>(name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T
const rfc7638 = fixture<{ jwk: JWK; input: string; thumbprint: string }>('rfc7638.json')
const rfc9449 = fixture<{ jwk: JWK; jkt: string }>('rfc9449.json')

describe('RFC 7638 §3.1: the example RSA key', () => {
  it('hash input: required members only, lexicographic order, no whitespace', () => {
    expect(thumbprintInput(rfc7638.jwk)).toBe(rfc7638.input)
  })

  it('thumbprint, synchronously and on any runtime', async () => {
    expect(jwkThumbprintSync(rfc7638.jwk)).toBe(rfc7638.thumbprint)
    expect(await jwkThumbprint(rfc7638.jwk)).toBe(rfc7638.thumbprint)
  })
})

describe('RFC 9449 §6.1: the example proof key’s thumbprint is its cnf.jkt', () => {
  it('EC P-256', () => {
    expect(jwkThumbprintSync(rfc9449.jwk)).toBe(rfc9449.jkt)
  })
})

describe('agreement with jose', () => {
  it.each(['ES256', 'ES384', 'ES512', 'EdDSA', 'RS256'] as const)(
    '%s keys, extra members ignored',
    async (alg) => {
      const { jwk } = await testKey(alg)
      expect(jwk.kid).toBeDefined() // the test keys carry kid, alg and use
      expect(jwkThumbprintSync(jwk)).toBe(
        await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]),
      )
    },
  )

  it('member values are JSON-escaped as RFC 7638 §3.3 asks', () => {
    const jwk = { kty: 'OKP', crv: 'Ed"25519', x: 'a\\b' }
    expect(thumbprintInput(jwk)).toBe('{"crv":"Ed\\"25519","kty":"OKP","x":"a\\\\b"}')
  })
})

describe('keys without a thumbprint', () => {
  it.each<[string, JWK]>([
    ['an oct key', { kty: 'oct', k: 'AAAA' }],
    ['an unknown type', { kty: 'XYZ', x: 'a' }],
    ['EC without y', { kty: 'EC', crv: 'P-256', x: 'a' }],
    ['RSA with a number for e', { kty: 'RSA', n: 'a', e: 65537 as unknown as string }],
    ['OKP without crv', { kty: 'OKP', x: 'a' }],
  ])('%s → undefined', async (_why, jwk) => {
    expect(thumbprintInput(jwk)).toBeUndefined()
    expect(jwkThumbprintSync(jwk)).toBeUndefined()
    expect(await jwkThumbprint(jwk)).toBeUndefined()
  })
})
