/** The one builder of every adapter's `require*` helpers: what each hands on, and where a bad match fails. */
import { describe, expect, it } from 'vitest'
import type { Match } from '../../../src/core/authz/match.js'
import { type RequireHelpers, requireHelpers } from '../../../src/core/authz/require-helpers.js'
import { compileRule } from '../../../src/core/authz/rule.js'
import { auth, denial } from './helpers.js'

const helpers = requireHelpers((requirements) => requirements)

describe('requireHelpers', () => {
  it.each([
    ['requireScopes', 'scopes', 'read:messages', 'ERR_POLICY_SCOPE'],
    ['requireRoles', 'roles', { any: ['admin', 'editor'] }, 'ERR_POLICY_ROLE'],
    ['requirePermissions', 'permissions', ['read:users', 'write:users'], 'ERR_POLICY_PERMISSION'],
    ['requireGroups', 'groups', 'staff', 'ERR_POLICY_GROUP'],
  ] as const)('%s hands the adapter { %s: match }', (name, key, match, code) => {
    const rule = helpers[name as keyof RequireHelpers<unknown>](match as Match)
    expect(rule).toEqual({ [key]: match })
    expect(denial(() => compileRule(rule).authorize(auth({ sub: 'u' }), 'GET')).code).toBe(code)
  })

  it('validates where the literal is written, naming the helper as the adapter spells it', () => {
    expect(() => helpers.requireScopes([])).toThrow(/^requireScopes: /)
    expect(() => helpers.requireRoles({ any: [] })).toThrow(/^requireRoles\.any: /)
    expect(() => helpers.requireScopes('read write')).toThrow(
      /^requireScopes: a scope cannot contain whitespace/,
    )
    const decorators = requireHelpers(() => undefined, 'Require')
    expect(() => decorators.requireGroups([''])).toThrow(/^RequireGroups: /)
  })

  it('calls the adapter only with a valid match', () => {
    const seen: unknown[] = []
    const counting = requireHelpers((requirements) => seen.push(requirements))
    expect(() => counting.requirePermissions([])).toThrow(TypeError)
    counting.requirePermissions('read:users')
    expect(seen).toEqual([{ permissions: 'read:users' }])
  })
})
