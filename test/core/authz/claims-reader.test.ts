import { describe, expect, it } from 'vitest'
import {
  type ClaimMapping,
  createClaimsReader,
  DEFAULT_CLAIM_MAPPING,
} from '../../../src/core/authz/claims-reader.js'
import type { JWTClaims } from '../../../src/core/types.js'

const sorted = (set: ReadonlySet<string>) => [...set].sort()

describe('createClaimsReader: defaults', () => {
  const read = createClaimsReader()

  it('documents its defaults', () => {
    expect(DEFAULT_CLAIM_MAPPING).toEqual({
      scopes: ['scope', 'scp'],
      roles: ['roles'],
      permissions: ['permissions'],
      groups: ['groups'],
    })
  })

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'scope string, space-delimited (RFC 9068)',
      { scope: 'openid read:messages  write:messages' },
      ['openid', 'read:messages', 'write:messages'],
    ],
    ['scp string (Entra)', { scp: 'access_as_user Orders.Read' }, ['Orders.Read', 'access_as_user']],
    ['scp array (Okta)', { scp: ['openid', 'email', 'flights'] }, ['email', 'flights', 'openid']],
    ['scp array members are not split', { scp: ['a b'] }, ['a b']],
    ['scope wins over scp (priority order, not merged)', { scope: 'a', scp: ['b'] }, ['a']],
    ['empty scope string is present and wins', { scope: '', scp: ['b'] }, []],
    ['null scope is absent: scp is read', { scope: null, scp: ['b'] }, ['b']],
    ['non-string members ignored', { scp: ['a', 1, null, { x: 1 }, '', 'b'] }, ['a', 'b']],
    ['a number yields nothing', { scope: 42 }, []],
    ['duplicates collapse', { scope: 'a a b' }, ['a', 'b']],
    ['no claim', {}, []],
  ])('scopes: %s', (_name, claims, expected) => {
    expect(sorted(read(claims as JWTClaims).scopes)).toEqual(expected)
  })

  it.each<[string, unknown, string[]]>([
    ['array', ['admin', 'editor'], ['admin', 'editor']],
    ['a string is ONE value, spaces included', 'Sales Team', ['Sales Team']],
    ['empty string', '', []],
    [
      'ZITADEL object of objects → member names',
      { admin: { '1': 'acme.example' }, reader: { '1': 'acme.example' } },
      ['admin', 'reader'],
    ],
    ['object with a non-object member → nothing', { roles: ['x'] }, []],
    ['empty object → nothing', {}, []],
    ['number → nothing', 7, []],
  ])('roles: %s', (_name, value, expected) => {
    expect(sorted(read({ roles: value }).roles)).toEqual(expected)
    expect(sorted(read({ permissions: value }).permissions)).toEqual(expected)
    expect(sorted(read({ groups: value }).groups)).toEqual(expected)
  })

  it('never reads objects as scopes', () => {
    expect(sorted(read({ scope: { admin: {} } } as unknown as JWTClaims).scopes)).toEqual([])
  })

  it('reads nothing from the prototype', () => {
    expect(sorted(read(JSON.parse('{"__proto__": {"roles": ["x"]}}')).roles)).toEqual([])
  })
})

describe('createClaimsReader: mappings', () => {
  const keycloak = JSON.parse(`{
    "scope": "openid profile",
    "realm_access": { "roles": ["realm-admin"] },
    "resource_access": { "my.client": { "roles": ["client-admin"] } },
    "https://example.com/roles": ["namespaced-admin"],
    "cognito:groups": ["staff"]
  }`) as JWTClaims

  it('reads nested, pointer and namespaced paths', () => {
    const read = createClaimsReader({
      roles: [['realm_access', 'roles']],
      permissions: ['/resource_access/my.client/roles'],
      groups: ['cognito:groups'],
    })
    const sets = read(keycloak)
    expect(sorted(sets.roles)).toEqual(['realm-admin'])
    expect(sorted(sets.permissions)).toEqual(['client-admin'])
    expect(sorted(sets.groups)).toEqual(['staff'])
    expect(sorted(sets.scopes)).toEqual(['openid', 'profile'])
  })

  it('takes the first PRESENT path, in order, and never merges', () => {
    const read = createClaimsReader({
      roles: ['missing', 'https://example.com/roles', ['realm_access', 'roles']],
    })
    expect(sorted(read(keycloak).roles)).toEqual(['namespaced-admin'])
  })

  it('a present but unusable claim stops the search (it is not skipped)', () => {
    const read = createClaimsReader({ roles: ['roles', 'backup'] })
    expect(sorted(read({ roles: 42, backup: ['admin'] }).roles)).toEqual([])
    expect(sorted(read({ backup: ['admin'] }).roles)).toEqual(['admin'])
  })

  it('a flat array is a priority list of names, not a nested path', () => {
    const read = createClaimsReader({ roles: ['realm_access', 'roles'] })
    // realm_access is present (an object holding an array): it wins and yields nothing.
    expect(sorted(read(keycloak).roles)).toEqual([])
  })

  it.each<[unknown, RegExp]>([
    ['roles', /^claims: expected an object/],
    [{ role: ['roles'] }, /^claims\.role: unknown category/],
    [{ roles: [] }, /^claims\.roles: expected a non-empty array/],
    [{ roles: 'roles' }, /^claims\.roles: .*wrap the string in an array: \["roles"\]/],
    [{ roles: [''] }, /^claims\.roles\[0\]: /],
    [{ groups: ['ok', '/bad~2'] }, /^claims\.groups\[1\]: /],
    [{ scopes: [42] }, /^claims\.scopes\[0\]: /],
  ])('rejects %j at construction', (mapping, message) => {
    expect(() => createClaimsReader(mapping as ClaimMapping)).toThrow(TypeError)
    expect(() => createClaimsReader(mapping as ClaimMapping)).toThrow(message)
  })

  it('returns fresh sets on every call', () => {
    const read = createClaimsReader()
    const first = read({ roles: ['a'] })
    ;(first.roles as Set<string>).add('b')
    expect(sorted(read({ roles: ['a'] }).roles)).toEqual(['a'])
  })
})
