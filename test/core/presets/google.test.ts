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
    const full = await verify(preset, token)
    expect(full.claims).toMatchObject({ iss: 'https://accounts.google.com', email: caller })
    expect(full.keyRequests).toEqual(['/oauth2/v3/certs'])
    const bare = await verify(preset, token, { iss: 'accounts.google.com' })
    expect(bare.claims).toMatchObject({ iss: 'accounts.google.com', email: caller })
  })

  it('accepts by subject, refusing any other subject', async () => {
    const bySubject = google({ audience, subjects: ['112233445566778899001'] })
    expect((await verify(bySubject, token)).claims.sub).toBe('112233445566778899001')
    expect(await rejection(verify(bySubject, token, { sub: '112233445566778899002' }))).toMatchObject({
      code: 'ERR_JWT_CLAIM_INVALID',
    })
  })

  it('accepts by hosted domain (any case), refusing a token without hd or from another domain', async () => {
    const byDomain = google({ audience, hostedDomains: ['example.com'] })
    expect((await verify(byDomain, token, { hd: 'Example.COM' })).claims.hd).toBe('Example.COM')
    for (const hd of [undefined, 'other.example']) {
      expect(await rejection(verify(byDomain, token, { hd }))).toMatchObject({
        code: 'ERR_JWT_CLAIM_INVALID',
      })
    }
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

  it('accepts any account only when told so explicitly, and still checks the audience', async () => {
    const anyAccount = google({ audience, allowAnyAccount: true })
    const anyone = await verify(anyAccount, token, { email: 'anyone@gmail.com', sub: '42' })
    expect(anyone.claims).toMatchObject({ email: 'anyone@gmail.com', sub: '42' })
    expect(await rejection(verify(anyAccount, token, { aud: 'https://other.a.run.app' }))).toMatchObject({
      code: 'ERR_JWT_AUDIENCE_INVALID',
    })
  })

  it('does not apply the ID-token guard (it verifies ID tokens by design)', async () => {
    const idToken = await verify(google({ audience, emails: [caller] }), token, { nonce: 'n', at_hash: 'x' })
    expect(idToken.claims).toMatchObject({ nonce: 'n', at_hash: 'x', email: caller })
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
