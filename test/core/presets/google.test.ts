import { describe, expect, it } from 'vitest'
import { google } from '../../../src/core/presets/index.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, verify } from './helpers.js'

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
