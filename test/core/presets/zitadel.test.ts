import { describe, expect, it } from 'vitest'
import { zitadel } from '../../../src/core/presets/index.js'
import { rejection } from '../../helpers/tokens.js'
import { fixture, verify } from './helpers.js'

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
