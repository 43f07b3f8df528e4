import { describe, expect, it } from 'vitest'
import { type IdTokenGuardOptions, idTokenGuard } from '../../../src/core/authz/token-guard.js'
import { GatehouseError } from '../../../src/core/errors.js'
import type { JWTClaims, ProtectedHeader } from '../../../src/core/types.js'

const access: JWTClaims = {
  iss: 'https://issuer.example.com/',
  sub: 'u',
  aud: 'https://api.example.com',
  exp: 2,
  iat: 1,
  scope: 'read',
}
const header: ProtectedHeader = { alg: 'RS256', kid: 'k' }

function outcome(
  options: IdTokenGuardOptions,
  claims: Record<string, unknown>,
  head: Record<string, unknown> = {},
): string {
  try {
    idTokenGuard(options)({ ...access, ...claims }, { ...header, ...head } as ProtectedHeader)
    return 'ok'
  } catch (error) {
    expect(error).toBeInstanceOf(GatehouseError)
    const e = error as GatehouseError
    expect(e.code).toBe('ERR_JWT_NOT_ACCESS_TOKEN')
    expect(e.status).toBe(401)
    expect(e.error).toBe('invalid_token')
    return e.description
  }
}

describe('idTokenGuard', () => {
  it.each<[string, IdTokenGuardOptions, Record<string, unknown>, Record<string, unknown>, string]>([
    ['a plain access token', {}, {}, {}, 'ok'],
    ['typ JWT', {}, {}, { typ: 'JWT' }, 'ok'],
    ['typ at+jwt', {}, {}, { typ: 'at+jwt' }, 'ok'],
    ['typ application/at+JWT (RFC 7515 §4.1.9 case and prefix)', {}, {}, { typ: 'application/at+JWT' }, 'ok'],
    ['typ logout+jwt', {}, {}, { typ: 'logout+jwt' }, 'Token is not an access token ("typ" header)'],
    ['typ dpop+jwt', {}, {}, { typ: 'dpop+jwt' }, 'Token is not an access token ("typ" header)'],
    ['typ secevent+jwt', {}, {}, { typ: 'secevent+jwt' }, 'Token is not an access token ("typ" header)'],
    ['typ id_token+jwt', {}, {}, { typ: 'id_token+jwt' }, 'Token is not an access token ("typ" header)'],
    ['a configured extra typ', { typ: ['application/custom+jwt'] }, {}, { typ: 'custom+jwt' }, 'ok'],
    ['Keycloak typ claim Bearer', {}, { typ: 'Bearer' }, {}, 'ok'],
    ['Keycloak typ claim ID', {}, { typ: 'ID' }, {}, 'Token is not an access token ("typ" claim)'],
    ['Keycloak typ claim Refresh', {}, { typ: 'Refresh' }, {}, 'Token is not an access token ("typ" claim)'],
    ['Keycloak typ claim Logout', {}, { typ: 'Logout' }, {}, 'Token is not an access token ("typ" claim)'],
    ['Cognito token_use access', {}, { token_use: 'access' }, {}, 'ok'],
    ['Cognito token_use id', {}, { token_use: 'id' }, {}, 'Token is not an access token ("token_use" claim)'],
    ['nonce', {}, { nonce: 'n-0S6_WzA2Mj' }, {}, 'Token is not an access token ("nonce" claim)'],
    [
      'an empty nonce is still a nonce',
      {},
      { nonce: '' },
      {},
      'Token is not an access token ("nonce" claim)',
    ],
    ['nonce with allowNonce (Keycloak < 25)', { allowNonce: true }, { nonce: 'n' }, {}, 'ok'],
    [
      'at_hash',
      {},
      { at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q' },
      {},
      'Token is not an access token ("at_hash" claim)',
    ],
    ['c_hash', {}, { c_hash: 'LDktKdoQak3Pk0cnXxCltA' }, {}, 'Token is not an access token ("c_hash" claim)'],
    ['s_hash (FAPI)', {}, { s_hash: 'x' }, {}, 'Token is not an access token ("s_hash" claim)'],
    [
      'at_hash even with allowNonce',
      { allowNonce: true },
      { at_hash: 'x' },
      {},
      'Token is not an access token ("at_hash" claim)',
    ],
    [
      'aud = a client id',
      { clientIds: ['spa-client'] },
      { aud: 'spa-client' },
      {},
      'Token is not an access token (audience is a client)',
    ],
    [
      'aud array naming a client id',
      { clientIds: ['spa-client'] },
      { aud: ['https://api.example.com', 'spa-client'] },
      {},
      'Token is not an access token (audience is a client)',
    ],
    ['aud not a client id', { clientIds: ['spa-client'] }, { aud: ['https://api.example.com'] }, {}, 'ok'],
    ['a client id that is a prefix of aud', { clientIds: ['spa'] }, { aud: 'spa-client' }, {}, 'ok'],
  ])('%s', (_name, options, claims, head, expected) => {
    expect(outcome(options, claims, head)).toBe(expected)
  })

  it.each<[unknown, RegExp]>([
    [null, /^idTokenGuard: expected an options object/],
    [{ clientIds: 'spa' }, /^idTokenGuard\.clientIds: /],
    [{ clientIds: [''] }, /^idTokenGuard\.clientIds: /],
    [{ typ: [1] }, /^idTokenGuard\.typ: /],
    [{ allowNonce: 'yes' }, /^idTokenGuard\.allowNonce: /],
  ])('rejects options %j', (options, message) => {
    expect(() => idTokenGuard(options as IdTokenGuardOptions)).toThrow(message)
  })

  it('never names a claim value in its description', () => {
    expect(outcome({ clientIds: ['spa-client'] }, { aud: 'spa-client' })).not.toContain('spa-client')
    expect(outcome({}, { nonce: 'secret-nonce' })).not.toContain('secret-nonce')
  })
})
