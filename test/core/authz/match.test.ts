import { describe, expect, it } from 'vitest'
import { type Match, normalizeMatch, satisfies, scopeAttribute } from '../../../src/core/authz/match.js'

const held = (...values: string[]) => new Set(values)

describe('ANY / ALL / mixed semantics', () => {
  it.each<[string, Match, string[], boolean]>([
    // a string: that one value
    ['string, held', 'read:messages', ['read:messages'], true],
    ['string, not held', 'read:messages', ['write:messages'], false],
    ['string, nothing held', 'read:messages', [], false],
    // a list: ALL of them (stricter than axioms' OR default)
    ['list, all held', ['a', 'b'], ['a', 'b', 'c'], true],
    ['list, one missing', ['a', 'b'], ['a'], false],
    ['list with duplicates, held once', ['a', 'a', 'b'], ['a', 'b'], true],
    ['list with duplicates, one missing', ['a', 'a', 'b'], ['a'], false],
    // { any }: OR
    ['any, first held', { any: ['a', 'b'] }, ['a'], true],
    ['any, second held', { any: ['a', 'b'] }, ['b'], true],
    ['any, none held', { any: ['a', 'b'] }, ['c'], false],
    ['any, nothing held', { any: ['a', 'b'] }, [], false],
    ['any with duplicates', { any: ['a', 'a'] }, ['a'], true],
    // { all }: AND
    ['all, both held', { all: ['a', 'b'] }, ['b', 'a'], true],
    ['all, one missing', { all: ['a', 'b'] }, ['b'], false],
    // mixed: (any) AND (all), axioms' MixedView
    [
      'mixed, both parts',
      { any: ['read:data', 'read:all'], all: ['openid', 'profile'] },
      ['read:all', 'openid', 'profile'],
      true,
    ],
    [
      'mixed, any part missing',
      { any: ['read:data', 'read:all'], all: ['openid', 'profile'] },
      ['openid', 'profile'],
      false,
    ],
    [
      'mixed, all part incomplete',
      { any: ['read:data', 'read:all'], all: ['openid', 'profile'] },
      ['read:data', 'openid'],
      false,
    ],
    ['mixed, a value in both', { any: ['a', 'b'], all: ['a'] }, ['a'], true],
    // exact matching: no prefixes, no case folding, no wildcards
    ['a longer value never satisfies its prefix', 'read:messages', ['read:messagesX'], false],
    ['a prefix never satisfies the longer value', 'read:messages', ['read'], false],
    ['"read" needs "read"', 'read', ['read:messages'], false],
    ['case-sensitive', 'Admin', ['admin'], false],
    ['no wildcard', 'read:messages', ['read:*'], false],
    ['no trimming', 'read', [' read'], false],
    [
      'any with prefixes only',
      { any: ['read:messages', 'write:messages'] },
      ['read:messagesX', 'write'],
      false,
    ],
  ])('%s', (_name, match, values, expected) => {
    expect(satisfies(normalizeMatch(match, 'm'), held(...values))).toBe(expected)
  })
})

describe('normalizeMatch', () => {
  it.each<[Match, object]>([
    ['a', { all: ['a'] }],
    [['a', 'b', 'a'], { all: ['a', 'b'] }],
    [{ any: ['b', 'a', 'b'] }, { any: ['b', 'a'] }],
    [
      { any: ['a'], all: ['b', 'b'] },
      { any: ['a'], all: ['b'] },
    ],
  ])('%j → %j (duplicates dropped)', (match, expected) => {
    expect(normalizeMatch(match, 'm')).toEqual(expected)
  })

  it.each<[unknown, RegExp]>([
    [[], /^rule\.scopes: expected at least one value \(an empty list would require nothing\)/],
    [{ all: [] }, /^rule\.scopes\.all: expected at least one value \(an empty list would require nothing\)/],
    [
      { any: [] },
      /^rule\.scopes\.any: expected at least one value \(an empty list would deny every request\)/,
    ],
    [{}, /^rule\.scopes: expected \{ any: \[\.\.\.\] \}/],
    [{ any: ['a'], one: ['b'] }, /^rule\.scopes\.one: unknown member/],
    ['', /^rule\.scopes: expected non-empty strings/],
    [['a', ''], /^rule\.scopes: expected non-empty strings/],
    [['a', 1], /^rule\.scopes: expected non-empty strings/],
    [{ any: 'a' }, /^rule\.scopes\.any: expected an array/],
    [null, /^rule\.scopes: expected a string, an array of strings, or \{ any, all \}, got null/],
    [42, /^rule\.scopes: expected a string/],
    ['read write', /^rule\.scopes: a scope cannot contain whitespace/],
    [{ all: ['read\twrite'] }, /^rule\.scopes\.all: a scope cannot contain whitespace/],
  ])('rejects %j', (match, message) => {
    expect(() => normalizeMatch(match, 'rule.scopes', true)).toThrow(TypeError)
    expect(() => normalizeMatch(match, 'rule.scopes', true)).toThrow(message)
  })

  it('allows spaces in roles and groups (one value each)', () => {
    expect(satisfies(normalizeMatch('Sales Team', 'rule.groups'), held('Sales Team'))).toBe(true)
  })

  it('freezes what it returns', () => {
    const match = normalizeMatch({ any: ['a'] }, 'm')
    expect(Object.isFrozen(match)).toBe(true)
    expect(Object.isFrozen(match.any)).toBe(true)
  })
})

describe('scopeAttribute (RFC 6750 §3 scope= of the 403 challenge)', () => {
  it.each<[Match, string]>([
    ['read:messages', 'read:messages'],
    [['read:messages', 'write:messages'], 'read:messages write:messages'],
    [{ any: ['read:data', 'read:all'] }, 'read:data read:all'],
    [{ all: ['openid', 'profile'] }, 'openid profile'],
    [{ any: ['read:data', 'read:all'], all: ['openid', 'profile'] }, 'openid profile read:data read:all'],
    [{ any: ['a', 'b'], all: ['b', 'c'] }, 'b c a'],
  ])('%j → "%s": every scope mentioned, all first, once', (match, expected) => {
    expect(scopeAttribute(normalizeMatch(match, 'm'))).toBe(expected)
  })
})
