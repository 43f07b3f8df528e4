import { readFileSync } from 'node:fs'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createClaimsReader } from '../../../src/core/claims-reader.js'
import { type PresetResult, zitadel } from '../../../src/core/presets/index.js'
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

const token = fixture('zitadel')
const options = { domain: 'my-instance-abc123.zitadel.cloud', audience: '263928437372190123' }

describe('zitadel preset', () => {
  it('sets the issuer without trailing slash and /oauth/v2/keys', () => {
    const preset = zitadel(options)
    expect(preset.issuer).toBe('https://my-instance-abc123.zitadel.cloud')
    expect(preset.jwksUri).toBe('https://my-instance-abc123.zitadel.cloud/oauth/v2/keys')
    expect(zitadel({ issuer: 'http://localhost:8080', audience: 'p' }).jwksUri).toBe(
      'http://localhost:8080/oauth/v2/keys',
    )
  })

  it('accepts a realistic JWT access token and reads the role OBJECT as role names', async () => {
    const result = await verify(zitadel(options), token)
    expect([...result.roles]).toEqual(['admin', 'reader'])
  })

  it('reads the project-specific role claim first when projectId is given', async () => {
    const preset = zitadel({ ...options, projectId: '263928437372190123' })
    const changes = {
      'urn:zitadel:iam:org:project:263928437372190123:roles': { auditor: { '1': 'acme.example' } },
    }
    expect([...(await verify(preset, token, changes)).roles]).toEqual(['auditor'])
    expect([...(await verify(zitadel(options), token, changes)).roles]).toEqual(['admin', 'reader'])
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['an ID token (nonce)', { nonce: 'n' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['an ID token (at_hash)', { at_hash: 'x' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['another project', { aud: ['999'] }, 'ERR_JWT_AUDIENCE_INVALID'],
    [
      'an issuer with a trailing slash',
      { iss: 'https://my-instance-abc123.zitadel.cloud/' },
      'ERR_JWT_ISSUER_INVALID',
    ],
  ])('rejects %s', async (_name, changes, code) => {
    expect(await rejection(verify(zitadel(options), token, changes))).toMatchObject({ code })
  })

  it.each<[unknown, RegExp]>([
    [{ audience: 'p' }, /^zitadel\.domain: give exactly one of domain or issuer/],
    [{ ...options, issuer: 'https://x.example' }, /^zitadel\.domain: give exactly one/],
    [{ ...options, projectId: 'a:b' }, /^zitadel\.projectId: /],
    [{ ...options, clientIds: ['x'] }, /^zitadel\.clientIds: unknown option/],
  ])('validates its input: %#', (input, message) => {
    expect(() => zitadel(input as Parameters<typeof zitadel>[0])).toThrow(message)
  })
})
