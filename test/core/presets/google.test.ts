import { readFileSync } from 'node:fs'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createClaimsReader } from '../../../src/core/claims-reader.js'
import { google, type PresetResult } from '../../../src/core/presets/index.js'
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

const token = fixture('google')
const audience = 'https://orders-api-abc123-ew.a.run.app'
const caller = 'caller@my-project.iam.gserviceaccount.com'

describe('google preset', () => {
  it('accepts both issuer forms, Google certs, RS256', () => {
    const preset = google({ audience, emails: [caller] })
    expect(preset.issuer).toEqual(['https://accounts.google.com', 'accounts.google.com'])
    expect(preset.jwksUri).toBe('https://www.googleapis.com/oauth2/v3/certs')
  })

  it('accepts an allowed service account ID token, from either issuer form', async () => {
    const preset = google({ audience, emails: ['Caller@my-project.iam.gserviceaccount.com'] })
    expect((await verify(preset, token)).claims.email).toBe(caller)
    await expect(verify(preset, token, { iss: 'accounts.google.com' })).resolves.toBeDefined()
  })

  it('accepts by subject or hosted domain', async () => {
    await expect(
      verify(google({ audience, subjects: ['112233445566778899001'] }), token),
    ).resolves.toBeDefined()
    await expect(
      verify(google({ audience, hostedDomains: ['example.com'] }), token, { hd: 'example.com' }),
    ).resolves.toBeDefined()
  })

  it.each<[string, Record<string, unknown>, string]>([
    [
      'another account',
      { email: 'someone@other-project.iam.gserviceaccount.com', sub: '1' },
      'ERR_JWT_CLAIM_INVALID',
    ],
    ['an unverified email', { email_verified: false }, 'ERR_JWT_CLAIM_INVALID'],
    ['a string "true" email_verified', { email_verified: 'true' }, 'ERR_JWT_CLAIM_INVALID'],
    ['another audience', { aud: 'https://other.a.run.app' }, 'ERR_JWT_AUDIENCE_INVALID'],
    ['another issuer', { iss: 'https://securetoken.google.com/my-project' }, 'ERR_JWT_ISSUER_INVALID'],
  ])('rejects %s', async (_name, changes, code) => {
    expect(await rejection(verify(google({ audience, emails: [caller] }), token, changes))).toMatchObject({
      code,
    })
  })

  it('accepts any account only when told so explicitly', async () => {
    await expect(
      verify(google({ audience, allowAnyAccount: true }), token, { email: 'anyone@gmail.com' }),
    ).resolves.toBeDefined()
  })

  it('does not apply the ID-token guard (it verifies ID tokens by design)', async () => {
    await expect(
      verify(google({ audience, emails: [caller] }), token, { nonce: 'n', at_hash: 'x' }),
    ).resolves.toBeDefined()
  })

  it.each<[unknown, RegExp]>([
    [{ audience }, /^google\.emails: any Google account can mint an ID token/],
    [{ audience, emails: [caller], allowAnyAccount: true }, /^google\.emails: any Google account/],
    [{ audience, emails: [] }, /^google\.emails: /],
    [{ emails: [caller] }, /^google\.audience: /],
    [{ audience, allowAnyAccount: 1 }, /^google\.allowAnyAccount: /],
  ])('validates its input: %#', (input, message) => {
    expect(() => google(input as Parameters<typeof google>[0])).toThrow(message)
  })
})
