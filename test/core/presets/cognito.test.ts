import { readFileSync } from 'node:fs'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createClaimsReader } from '../../../src/core/claims-reader.js'
import { cognito, type PresetResult } from '../../../src/core/presets/index.js'
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

const token = fixture('cognito')
const idToken = fixture('cognito-id-token')
const options = { region: 'us-west-2', userPoolId: 'us-west-2_EXAMPLE1', clientId: '1example23456789' }

describe('cognito preset', () => {
  it('switches the audience check off explicitly and sets issuer and JWKS URL', () => {
    const preset = cognito(options)
    expect(preset.issuer).toBe('https://cognito-idp.us-west-2.amazonaws.com/us-west-2_EXAMPLE1')
    expect(preset.jwksUri).toBe(
      'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_EXAMPLE1/.well-known/jwks.json',
    )
    expect(preset.audience).toBeNull()
  })

  it('accepts a realistic access token (no aud) and reads cognito:groups and scope', async () => {
    const result = await verify(cognito(options), token)
    expect(result.claims.username).toBe('janedoe@example.com')
    expect([...result.groups]).toEqual(['admin', 'Sales Team'])
    expect([...result.scopes]).toEqual(['aws.cognito.signin.user.admin', 'https://api.example.com/read'])
    expect([...result.roles]).toEqual([])
  })

  it('accepts any of several app clients', async () => {
    const preset = cognito({
      region: 'us-west-2',
      userPoolId: 'us-west-2_EXAMPLE1',
      clientIds: ['other', '1example23456789'],
    })
    await expect(verify(preset, token)).resolves.toBeDefined()
  })

  it('rejects the ID token of the same pool and client', async () => {
    expect(await rejection(verify(cognito(options), idToken))).toMatchObject({
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
      description: 'Token is not an access token ("token_use" claim)',
    })
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['another app client', { client_id: '9other87654321' }, 'ERR_JWT_CLAIM_INVALID'],
    ['no client_id', { client_id: undefined }, 'ERR_JWT_CLAIM_MISSING'],
    ['no token_use', { token_use: undefined }, 'ERR_JWT_CLAIM_MISSING'],
    ['token_use id', { token_use: 'id' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['an at_hash', { at_hash: 'x' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    ['aud = the client id', { aud: '1example23456789' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
    [
      'another pool',
      { iss: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_OTHER' },
      'ERR_JWT_ISSUER_INVALID',
    ],
  ])('rejects %s', async (_name, changes, code) => {
    expect(await rejection(verify(cognito(options), token, changes))).toMatchObject({ code })
  })

  it.each<[unknown, RegExp]>([
    [{ ...options, region: 'us_west_2' }, /^cognito\.region: /],
    [
      { ...options, userPoolId: 'EXAMPLE1' },
      /^cognito\.userPoolId: expected an id such as "us-west-2_AbCdEf123"/,
    ],
    [
      { ...options, userPoolId: 'eu-west-1_EXAMPLE1' },
      /^cognito\.userPoolId: the pool id's region "eu-west-1" is not cognito\.region "us-west-2"/,
    ],
    [
      { region: 'us-west-2', userPoolId: 'us-west-2_EXAMPLE1' },
      /^cognito\.clientId: give exactly one of clientId or clientIds/,
    ],
    [{ ...options, clientIds: ['a'] }, /^cognito\.clientId: give exactly one/],
    [{ ...options, clientId: '' }, /^cognito\.clientId: /],
    [{ ...options, audience: 'x' }, /^cognito\.audience: unknown option/],
  ])('validates its input: %#', (input, message) => {
    expect(() => cognito(input as Parameters<typeof cognito>[0])).toThrow(message)
  })
})
