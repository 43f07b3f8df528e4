import { describe, expect, it } from 'vitest'
import {
  type ClaimPath,
  formatClaimPath,
  parseClaimPath,
  readClaim,
} from '../../../src/core/authz/claim-path.js'
import type { JWTClaims } from '../../../src/core/types.js'

const claims: JWTClaims = JSON.parse(`{
  "sub": "user-1",
  "roles": ["top"],
  "realm_access.roles": ["dotted-name"],
  "realm_access": { "roles": ["realm-admin"] },
  "resource_access": { "my-client": { "roles": ["client-admin"] }, "my.dotted.client": { "roles": ["dotted-client"] } },
  "https://example.com/roles": ["namespaced"],
  "https://example.com/app": { "roles": ["nested-namespaced"] },
  "a/b": "slash-name",
  "a~b": "tilde-name",
  "/lead": "leading-slash",
  "list": [{ "roles": ["in-array"] }],
  "__proto__": { "roles": ["own-proto-claim"] },
  "empty": null
}`)

describe('parseClaimPath', () => {
  it.each<[ClaimPath, string[]]>([
    ['roles', ['roles']],
    ['realm_access.roles', ['realm_access.roles']],
    ['https://example.com/roles', ['https://example.com/roles']],
    ['urn:zitadel:iam:org:project:roles', ['urn:zitadel:iam:org:project:roles']],
    [
      ['realm_access', 'roles'],
      ['realm_access', 'roles'],
    ],
    [
      ['https://example.com/app', 'roles'],
      ['https://example.com/app', 'roles'],
    ],
    ['/realm_access/roles', ['realm_access', 'roles']],
    ['/resource_access/my.dotted.client/roles', ['resource_access', 'my.dotted.client', 'roles']],
    ['/https:~1~1example.com~1roles', ['https://example.com/roles']],
    ['/a~0b', ['a~b']],
    ['/~01', ['~1']],
    ['/~1lead', ['/lead']],
  ])('%j → %j', (path, segments) => {
    expect(parseClaimPath(path)).toEqual(segments)
  })

  it.each<[unknown, RegExp]>([
    ['', /expected a claim name/],
    ['/', /empty name/],
    ['//roles', /empty name/],
    ['/roles/', /empty name/],
    ['/a~2b', /"~" must be written "~0"/],
    ['/a~', /"~" must be written "~0"/],
    [[], /at least one claim name/],
    [['realm_access', ''], /non-empty claim names/],
    [['realm_access', 1], /non-empty claim names/],
    [42, /expected a claim name/],
    [null, /expected a claim name/],
  ])('rejects %j with a TypeError naming the option', (path, message) => {
    expect(() => parseClaimPath(path as ClaimPath, 'claims.roles[0]')).toThrow(TypeError)
    expect(() => parseClaimPath(path as ClaimPath, 'claims.roles[0]')).toThrow(/^claims\.roles\[0\]: /)
    expect(() => parseClaimPath(path as ClaimPath, 'claims.roles[0]')).toThrow(message)
  })
})

describe('readClaim', () => {
  it.each<[ClaimPath, unknown]>([
    ['sub', 'user-1'],
    ['roles', ['top']],
    // A dotted string is one name, never a path.
    ['realm_access.roles', ['dotted-name']],
    [['realm_access', 'roles'], ['realm-admin']],
    ['/realm_access/roles', ['realm-admin']],
    [['resource_access', 'my-client', 'roles'], ['client-admin']],
    ['/resource_access/my.dotted.client/roles', ['dotted-client']],
    ['https://example.com/roles', ['namespaced']],
    [['https://example.com/app', 'roles'], ['nested-namespaced']],
    ['/https:~1~1example.com~1app/roles', ['nested-namespaced']],
    ['a/b', 'slash-name'],
    ['/a~1b', 'slash-name'],
    ['/a~0b', 'tilde-name'],
    [['/lead'], 'leading-slash'],
    ['/~1lead', 'leading-slash'],
    ['empty', null],
  ])('%j', (path, expected) => {
    expect(readClaim(claims, path)).toEqual(expected)
  })

  it.each<ClaimPath>([
    'missing',
    ['realm_access', 'missing'],
    ['sub', 'length'], // no walking into strings
    ['roles', '0'], // no array indices
    ['list', '0', 'roles'],
    ['empty', 'x'],
    'toString', // nothing from Object.prototype
    'constructor',
    ['realm_access', 'hasOwnProperty'],
    ['realm_access', 'roles', 'length'],
  ])('%j is undefined', (path) => {
    expect(readClaim(claims, path)).toBeUndefined()
  })

  it('reads a "__proto__" claim only as the token carried it, never the prototype', () => {
    expect(readClaim(claims, ['__proto__', 'roles'])).toEqual(['own-proto-claim'])
    expect(readClaim({ sub: 'x' }, '__proto__')).toBeUndefined()
    expect(readClaim({ sub: 'x' }, ['__proto__', 'toString'])).toBeUndefined()
  })
})

describe('formatClaimPath', () => {
  it.each<[ClaimPath, string]>([
    ['sub', 'sub'],
    ['https://example.com/roles', 'https://example.com/roles'],
    [['realm_access', 'roles'], '/realm_access/roles'],
    [['https://example.com/app', 'a~b'], '/https:~1~1example.com~1app/a~0b'],
    [['/lead'], '/~1lead'],
  ])('%j → %s, which parses back to the same path', (path, text) => {
    expect(formatClaimPath(path)).toBe(text)
    expect(parseClaimPath(text)).toEqual(parseClaimPath(path))
  })
})
