import { describe, expect, it } from 'vitest'
import { assertOwner, assertOwnerOrReadOnly } from '../../../src/core/authz/owner.js'
import { auth, denial } from './helpers.js'

const user = auth({ sub: 'auth0|alice', 'https://example.com/uid': 'u-1', app: { user_id: 'u-2' }, n: 7 })

describe('assertOwner', () => {
  it('passes when the claim equals the owner', () => {
    expect(() => assertOwner(user, 'auth0|alice')).not.toThrow()
    expect(() => assertOwner(user, 'u-1', { claim: 'https://example.com/uid' })).not.toThrow()
    expect(() => assertOwner(user, 'u-2', { claim: ['app', 'user_id'] })).not.toThrow()
    expect(() => assertOwner(user, 'u-2', { claim: '/app/user_id' })).not.toThrow()
  })

  it.each<[string, unknown, object?]>([
    ['another owner', 'auth0|bob'],
    ['a prefix of the subject', 'auth0|alic'],
    ['the subject with a suffix', 'auth0|alice2'],
    ['different case', 'AUTH0|ALICE'],
    ['an empty owner', ''],
    ['no owner', undefined],
    ['null owner', null],
    ['a number owner (convert ids yourself)', 7, { claim: 'n' }],
    ['a non-string claim', '7', { claim: 'n' }],
    ['a missing claim', 'auth0|alice', { claim: 'uid' }],
    ['an object owner', { toString: () => 'auth0|alice' }],
  ])('denies %s with ERR_POLICY_OWNER (403)', (_name, owner, options) => {
    const error = denial(() => assertOwner(user, owner, options))
    expect(error.code).toBe('ERR_POLICY_OWNER')
    expect(error.status).toBe(403)
  })

  it('names the claim it compared, never its value', () => {
    expect(denial(() => assertOwner(user, 'x')).required).toEqual({ owner: { claim: 'sub' } })
    const nested = denial(() => assertOwner(user, 'x', { claim: ['app', 'user_id'] }))
    expect(nested.required).toEqual({ owner: { claim: '/app/user_id' } })
    expect(JSON.stringify(nested)).not.toContain('u-2')
    expect(nested.message).not.toContain('alice')
  })

  it('denies a token without sub', () => {
    expect(denial(() => assertOwner(auth({}), 'auth0|alice')).code).toBe('ERR_POLICY_OWNER')
  })

  it('rejects a malformed claim path as a programming error', () => {
    expect(() => assertOwner(user, 'x', { claim: '//' })).toThrow(TypeError)
  })
})

describe('assertOwnerOrReadOnly', () => {
  it.each(['GET', 'HEAD', 'OPTIONS', 'get', 'head', 'options'])(
    '%s passes for anyone authenticated',
    (method) => {
      expect(() => assertOwnerOrReadOnly(user, 'auth0|bob', method)).not.toThrow()
    },
  )

  it.each(['POST', 'PUT', 'PATCH', 'DELETE', 'delete', 'PROPFIND'])('%s needs the owner', (method) => {
    expect(() => assertOwnerOrReadOnly(user, 'auth0|alice', method)).not.toThrow()
    expect(denial(() => assertOwnerOrReadOnly(user, 'auth0|bob', method)).code).toBe('ERR_POLICY_OWNER')
  })

  it('passes options through', () => {
    expect(() =>
      assertOwnerOrReadOnly(user, 'u-1', 'PATCH', { claim: 'https://example.com/uid' }),
    ).not.toThrow()
    expect(
      denial(() => assertOwnerOrReadOnly(user, 'auth0|alice', 'PATCH', { claim: 'https://example.com/uid' }))
        .code,
    ).toBe('ERR_POLICY_OWNER')
  })
})
