import { describe, expect, it } from 'vitest'
import { okta } from '../../../src/core/presets/index.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, verify } from './helpers.js'

const token = fixture('okta')
const options = { domain: 'dev-123456.okta.com', audience: 'api://default' }

describe('okta preset', () => {
  it('uses the default custom authorization server, its /v1/keys, RS256', () => {
    const preset = okta(options)
    expect(preset.issuer).toBe('https://dev-123456.okta.com/oauth2/default')
    expect(preset.jwksUri).toBe('https://dev-123456.okta.com/oauth2/default/v1/keys')
    expect(preset.discovery).toBeUndefined()
    expect(preset.algorithms).toEqual(['RS256'])
  })

  it('builds other issuers and switches to discovery on request', () => {
    expect(okta({ ...options, authorizationServerId: 'aus1a2b3c4d5e6f7g8h9' }).issuer).toBe(
      'https://dev-123456.okta.com/oauth2/aus1a2b3c4d5e6f7g8h9',
    )
    const custom = okta({
      issuer: 'https://login.example.com/oauth2/default/',
      audience: 'api://default',
      discovery: true,
    })
    expect(custom.issuer).toBe('https://login.example.com/oauth2/default')
    expect(custom.discovery).toBe(true)
    expect(custom.jwksUri).toBeUndefined()
  })

  it('accepts a realistic access token and reads the scp ARRAY and groups', async () => {
    const result = await verify(okta(options), token)
    expect([...result.scopes]).toEqual(['openid', 'email', 'flights', 'custom'])
    expect([...result.groups]).toEqual(['Everyone', 'Travel Agents'])
    expect(result.claims.cid).toBe('nmdP1fcyvdVO11AL7ECm')
  })

  it('does not read a `scope` claim that an admin could add', async () => {
    const result = await verify(okta(options), token, { scope: 'admin' })
    expect(result.scopes.has('admin')).toBe(false)
  })

  it.each<[string, Record<string, unknown>, string]>([
    ['the org authorization server', { iss: 'https://dev-123456.okta.com' }, 'ERR_JWT_ISSUER_INVALID'],
    [
      'another authorization server',
      { iss: 'https://dev-123456.okta.com/oauth2/aus9other' },
      'ERR_JWT_ISSUER_INVALID',
    ],
    ['another audience', { aud: 'api://other' }, 'ERR_JWT_AUDIENCE_INVALID'],
    ['an ID token (nonce, at_hash)', { nonce: 'n', at_hash: 'x' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
  ])('rejects %s', async (_name, changes, code) => {
    expect(await rejection(verify(okta(options), token, changes))).toMatchObject({ code })
  })

  it('rejects an ID token audienced to a configured client id', async () => {
    const preset = okta({ ...options, clientIds: ['nmdP1fcyvdVO11AL7ECm'] })
    expect(
      await rejection(verify(preset, token, { aud: ['api://default', 'nmdP1fcyvdVO11AL7ECm'] })),
    ).toMatchObject({
      code: 'ERR_JWT_NOT_ACCESS_TOKEN',
    })
  })

  it.each<[unknown, RegExp]>([
    [
      { issuer: 'https://dev-123456.okta.com', audience: 'api://default' },
      /^okta\.issuer: expected a custom authorization server issuer/,
    ],
    [
      { issuer: 'http://dev-123456.okta.com/oauth2/default', audience: 'api://default' },
      /^okta\.issuer: expected an https URL/,
    ],
    [
      { ...options, issuer: 'https://dev-123456.okta.com/oauth2/default' },
      /^okta\.issuer: give either issuer, or domain/,
    ],
    [{ ...options, authorizationServerId: 'a/b' }, /^okta\.authorizationServerId: /],
    [{ audience: 'api://default' }, /^okta\.domain: /],
    [{ ...options, discovery: 'auto' }, /^okta\.discovery: /],
  ])('validates its input: %#', (input, message) => {
    expect(() => okta(input as Parameters<typeof okta>[0])).toThrow(message)
  })
})
