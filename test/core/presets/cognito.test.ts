import { describe, expect, it } from 'vitest'
import { cognito } from '../../../src/core/presets/index.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, verify } from './helpers.js'

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
    expect(result.keyRequests).toEqual(['/us-west-2_EXAMPLE1/.well-known/jwks.json'])
  })

  it('accepts any of several app clients', async () => {
    const preset = cognito({
      region: 'us-west-2',
      userPoolId: 'us-west-2_EXAMPLE1',
      clientIds: ['other', '1example23456789'],
    })
    expect((await verify(preset, token)).claims.client_id).toBe('1example23456789')
    expect((await verify(preset, token, { client_id: 'other' })).claims.client_id).toBe('other')
    expect(await rejection(verify(preset, token, { client_id: 'third' }))).toMatchObject({
      code: 'ERR_JWT_CLAIM_INVALID',
    })
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
