import { describe, expect, it } from 'vitest'
import type { AuthContext } from '../../../src/core/authz/context.js'
import type { Match } from '../../../src/core/authz/match.js'
import { type AccessRule, compileRule } from '../../../src/core/authz/rule.js'
import { GatehouseError } from '../../../src/core/errors.js'
import { errorResponse } from '../../../src/core/http/challenge.js'
import { auth, denial } from './helpers.js'

const everything = auth({
  sub: 'u',
  scope: 'openid profile read:data read:messages write:messages',
  roles: ['admin', 'editor'],
  permissions: ['read:users'],
  groups: ['staff'],
})
const nothing = auth({ sub: 'u' })

describe('ERR_POLICY_SCOPE for each Match form: scope= and required', () => {
  it.each<[Match, string, object]>([
    ['read:messages', 'read:messages', { all: ['read:messages'] }],
    [
      ['read:messages', 'write:messages'],
      'read:messages write:messages',
      { all: ['read:messages', 'write:messages'] },
    ],
    [{ any: ['read:data', 'read:all'] }, 'read:data read:all', { any: ['read:data', 'read:all'] }],
    [{ all: ['openid', 'profile'] }, 'openid profile', { all: ['openid', 'profile'] }],
    [
      { any: ['read:data', 'read:all'], all: ['openid', 'profile'] },
      'openid profile read:data read:all',
      { any: ['read:data', 'read:all'], all: ['openid', 'profile'] },
    ],
  ])('%j', (scopes, scope, required) => {
    const error = denial(() => compileRule({ scopes }).authorize(auth({ scope: 'unrelated' }), 'GET'))
    expect(error.code).toBe('ERR_POLICY_SCOPE')
    expect(error.status).toBe(403)
    expect(error.error).toBe('insufficient_scope')
    expect(error.scope).toBe(scope)
    expect(error.required).toEqual({ scopes: required })
  })

  it('renders the exact RFC 6750 §3.1 challenge through the one challenge builder', () => {
    const error = denial(() => compileRule({ scopes: 'read:messages' }).authorize(nothing, 'GET'))
    const response = errorResponse(error)
    expect(response.status).toBe(403)
    expect(response.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", error_description="Insufficient scope", scope="read:messages"',
    )
    expect(response.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'Insufficient scope',
      code: 'ERR_POLICY_SCOPE',
      required: { scopes: { all: ['read:messages'] } },
    })
  })

  it('never reports what the token held', () => {
    const error = denial(() =>
      compileRule({ scopes: { all: ['read:data', 'admin:all'] } }).authorize(everything, 'GET'),
    )
    expect(error.scope).toBe('read:data admin:all')
    const body = JSON.stringify(errorResponse(error).body)
    expect(body).not.toContain('write:messages')
    expect(body).not.toContain('openid')
    expect(body).not.toContain('secret-token')
  })
})

describe('categories', () => {
  it.each<[string, AccessRule, string, object]>([
    [
      'roles',
      { roles: { any: ['owner', 'superuser'] } },
      'ERR_POLICY_ROLE',
      { roles: { any: ['owner', 'superuser'] } },
    ],
    [
      'permissions',
      { permissions: ['read:users', 'write:users'] },
      'ERR_POLICY_PERMISSION',
      { permissions: { all: ['read:users', 'write:users'] } },
    ],
    ['groups', { groups: 'managers' }, 'ERR_POLICY_GROUP', { groups: { all: ['managers'] } }],
  ])('%s: 403 naming only what was required, no scope attribute', (_name, rule, code, required) => {
    const error = denial(() => compileRule(rule).authorize(everything, 'GET'))
    expect(error.code).toBe(code)
    expect(error.status).toBe(403)
    expect(error.required).toEqual(required)
    expect(error.scope).toBeUndefined()
    expect(errorResponse(error).headers['www-authenticate']).not.toContain('scope=')
  })

  it('ANDs the categories and passes when all hold', () => {
    const rule = compileRule({
      scopes: 'read:data',
      roles: { any: ['admin'] },
      permissions: 'read:users',
      groups: ['staff'],
    })
    expect(() => rule.authorize(everything, 'GET')).not.toThrow()
  })

  it('evaluates scopes, roles, permissions, groups, check in that order and reports the first failure', () => {
    let checked = 0
    const check = () => {
      checked++
      return false
    }
    const all: AccessRule = { check, groups: 'x', permissions: 'x', roles: 'x', scopes: 'x' }
    expect(denial(() => compileRule(all).authorize(nothing, 'GET')).code).toBe('ERR_POLICY_SCOPE')
    expect(denial(() => compileRule({ ...all, scopes: undefined }).authorize(nothing, 'GET')).code).toBe(
      'ERR_POLICY_ROLE',
    )
    expect(
      denial(() => compileRule({ check, groups: 'x', permissions: 'x' }).authorize(nothing, 'GET')).code,
    ).toBe('ERR_POLICY_PERMISSION')
    expect(denial(() => compileRule({ check, groups: 'x' }).authorize(nothing, 'GET')).code).toBe(
      'ERR_POLICY_GROUP',
    )
    expect(checked).toBe(0)
    expect(denial(() => compileRule({ check }).authorize(nothing, 'GET')).code).toBe('ERR_POLICY_DENIED')
    expect(checked).toBe(1)
  })

  it('an empty rule requires a valid token and nothing else', () => {
    const rule = compileRule()
    expect(rule.requiresToken('GET')).toBe(true)
    expect(() => rule.authorize(nothing, 'DELETE')).not.toThrow()
    expect(denial(() => rule.authorize(null, 'GET')).code).toBe('ERR_NO_TOKEN')
  })
})

describe('check (escape hatch)', () => {
  it('sees the auth context and allows on true', () => {
    const rule = compileRule({ check: (a) => a.claims.sub === 'u' && a.roles.has('admin') })
    expect(() => rule.authorize(everything, 'GET')).not.toThrow()
    const error = denial(() => rule.authorize(nothing, 'GET'))
    expect(error.code).toBe('ERR_POLICY_DENIED')
    expect(error.required).toBeUndefined()
  })

  it('passes a GatehouseError through and leaves other errors to the application', () => {
    const own = new GatehouseError('ERR_POLICY_OWNER')
    expect(() =>
      compileRule({
        check: () => {
          throw own
        },
      }).authorize(nothing, 'GET'),
    ).toThrow(own)
    const bug = new RangeError('bug')
    expect(() =>
      compileRule({
        check: () => {
          throw bug
        },
      }).authorize(nothing, 'GET'),
    ).toThrow(bug)
  })

  it.each<[string, unknown]>([
    ['a Promise (async check)', Promise.resolve(true)],
    ['a truthy string', 'yes'],
    ['1', 1],
    ['undefined', undefined],
  ])('a non-boolean result (%s) is a TypeError, never an allow', (_name, result) => {
    const rule = compileRule({ check: (() => result) as unknown as () => boolean })
    expect(() => rule.authorize(everything, 'GET')).toThrow(TypeError)
  })
})

describe('per-method rules (methods REPLACE the base requirements)', () => {
  const rule = compileRule({
    scopes: 'admin',
    methods: {
      get: { scopes: 'read:messages' },
      POST: { scopes: ['write:messages'], roles: 'editor' },
      delete: { roles: { any: ['owner', 'superuser'] } },
      PUT: {},
      OPTIONS: 'public',
    },
  })
  const reader = auth({ scope: 'read:messages' })
  const writer = auth({ scope: 'write:messages', roles: ['editor'] })
  const admin = auth({ scope: 'admin' })

  it.each<[string, AuthContext, string | null]>([
    ['GET', reader, null],
    ['get', reader, null],
    ['GET', admin, 'ERR_POLICY_SCOPE'], // replaced, not added: admin alone does not satisfy GET
    ['HEAD', reader, null], // HEAD follows GET
    ['HEAD', admin, 'ERR_POLICY_SCOPE'],
    ['POST', writer, null],
    ['POST', auth({ scope: 'write:messages' }), 'ERR_POLICY_ROLE'],
    ['DELETE', auth({ roles: ['superuser'] }), null],
    ['DELETE', admin, 'ERR_POLICY_ROLE'],
    ['PUT', nothing, null], // {} = any valid token
    ['PATCH', admin, null], // not listed: base requirements
    ['PATCH', reader, 'ERR_POLICY_SCOPE'],
    ['PROPFIND', admin, null],
    ['OPTIONS', nothing, null],
  ])('%s by %#', (method, who, code) => {
    if (code === null) expect(() => rule.authorize(who, method)).not.toThrow()
    else expect(denial(() => rule.authorize(who, method)).code).toBe(code)
  })

  it('reports the method-specific requirement', () => {
    expect(denial(() => rule.authorize(admin, 'POST')).scope).toBe('write:messages')
    expect(denial(() => rule.authorize(reader, 'PATCH')).scope).toBe('admin')
  })

  it("'public' needs no token; everything else does", () => {
    expect(rule.requiresToken('OPTIONS')).toBe(false)
    expect(rule.access('options')).toBe('public')
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(rule.requiresToken(method)).toBe(true)
      expect(rule.access(method)).toBe('required')
    }
    expect(() => rule.authorize(null, 'OPTIONS')).not.toThrow()
    expect(denial(() => rule.authorize(null, 'POST')).code).toBe('ERR_NO_TOKEN')
  })

  it('HEAD keeps its own entry when named', () => {
    const own = compileRule({ methods: { GET: { scopes: 'read' }, HEAD: 'public' } })
    expect(own.requiresToken('HEAD')).toBe(false)
    expect(own.requiresToken('GET')).toBe(true)
  })

  it('summarizes the effective requirements for docs and framework metadata', () => {
    expect(rule.summary.default).toEqual({
      access: 'required',
      required: { scopes: { all: ['admin'] } },
      check: false,
    })
    expect(rule.summary.methods.GET).toEqual({
      access: 'required',
      required: { scopes: { all: ['read:messages'] } },
      check: false,
    })
    expect(rule.summary.methods.HEAD).toEqual(rule.summary.methods.GET)
    expect(rule.summary.methods.POST?.required).toEqual({
      scopes: { all: ['write:messages'] },
      roles: { all: ['editor'] },
    })
    expect(rule.summary.methods.OPTIONS).toEqual({ access: 'public', required: {}, check: false })
    expect(Object.keys(rule.summary.methods).sort()).toEqual([
      'DELETE',
      'GET',
      'HEAD',
      'OPTIONS',
      'POST',
      'PUT',
    ])
  })
})

describe('optional authentication per method', () => {
  it('lets chosen methods through without a token; HEAD follows GET', () => {
    const rule = compileRule({ scopes: 'write', optional: ['get', 'POST'] })
    expect(rule.requiresToken('GET')).toBe(false)
    expect(rule.requiresToken('HEAD')).toBe(false)
    expect(rule.requiresToken('post')).toBe(false)
    expect(rule.requiresToken('PUT')).toBe(true)
    expect(rule.requiresToken('DELETE')).toBe(true)
    expect(rule.access('GET')).toBe('optional')
    expect(() => rule.authorize(null, 'GET')).not.toThrow()
    expect(denial(() => rule.authorize(null, 'PUT')).code).toBe('ERR_NO_TOKEN')
  })

  it('optional methods carry no requirements: base requirements do not apply to them', () => {
    const rule = compileRule({ scopes: 'write', optional: ['GET'] })
    expect(() => rule.authorize(nothing, 'GET')).not.toThrow()
    expect(denial(() => rule.authorize(nothing, 'PUT')).code).toBe('ERR_POLICY_SCOPE')
    expect(rule.summary.methods.GET).toEqual({ access: 'optional', required: {}, check: false })
  })

  it('optional: true makes every method optional', () => {
    const rule = compileRule({ optional: true })
    for (const method of ['GET', 'POST', 'DELETE', 'X-CUSTOM']) expect(rule.requiresToken(method)).toBe(false)
    expect(rule.summary.default.access).toBe('optional')
  })

  it('optional: false and [] change nothing', () => {
    expect(compileRule({ optional: false }).requiresToken('GET')).toBe(true)
    expect(compileRule({ optional: [] }).requiresToken('GET')).toBe(true)
  })

  it('an explicit HEAD in optional is not extended from GET', () => {
    const rule = compileRule({ optional: ['HEAD'] })
    expect(rule.requiresToken('HEAD')).toBe(false)
    expect(rule.requiresToken('GET')).toBe(true)
  })

  it.each<[string, AccessRule, RegExp]>([
    [
      'requirements on an optional method',
      { optional: ['GET'], methods: { GET: { scopes: 'read' } } },
      /^rule\.methods\.GET: GET is optional/,
    ],
    [
      'lower-case names are the same method',
      { optional: ['get'], methods: { Get: { roles: 'x' } } },
      /^rule\.methods\.Get: GET is optional/,
    ],
    [
      'a check on an optional method',
      { optional: true, methods: { POST: { check: () => true } } },
      /^rule\.methods\.POST: POST is optional/,
    ],
    [
      'base requirements with everything optional',
      { optional: true, scopes: 'read' },
      /^rule\.optional: every method is optional/,
    ],
  ])('rejects %s at construction: a missing token would bypass them', (_name, rule, message) => {
    expect(() => compileRule(rule)).toThrow(TypeError)
    expect(() => compileRule(rule)).toThrow(message)
  })

  it('allows an empty requirement object on an optional method', () => {
    expect(() => compileRule({ optional: ['GET'], methods: { GET: {} } })).not.toThrow()
  })
})

describe('rule validation', () => {
  it.each<[unknown, RegExp]>([
    ['read', /^rule: expected an object/],
    [null, /^rule: expected an object/],
    [{ scope: 'read' }, /^rule\.scope: unknown option \(did you mean scopes\?\)/],
    [{ role: 'admin' }, /^rule\.role: unknown option \(did you mean roles\?\)/],
    [{ scopes: [] }, /^rule\.scopes: expected at least one value/],
    [{ roles: { any: [] } }, /^rule\.roles\.any: expected at least one value/],
    [{ scopes: 'read write' }, /^rule\.scopes: a scope cannot contain whitespace/],
    [{ check: true }, /^rule\.check: expected a function/],
    [{ optional: 'GET' }, /^rule\.optional: expected a boolean or an array/],
    [{ optional: ['GET /'] }, /^rule\.optional\[0\]: expected an HTTP method name/],
    [{ methods: ['GET'] }, /^rule\.methods: expected an object/],
    [{ methods: { GET: 'private' } }, /^rule\.methods\.GET: expected requirements/],
    [{ methods: { GET: { optional: true } } }, /^rule\.methods\.GET\.optional: unknown option/],
    [{ methods: { GET: { methods: {} } } }, /^rule\.methods\.GET\.methods: unknown option/],
    [{ methods: { 'GE T': {} } }, /^rule\.methods\.GE T: expected an HTTP method name/],
    [{ methods: { get: {}, GET: {} } }, /^rule\.methods\.GET: GET is listed twice/],
    [{ methods: { POST: { scopes: [''] } } }, /^rule\.methods\.POST\.scopes: expected non-empty strings/],
  ])('rejects %j with a TypeError naming the option', (rule, message) => {
    expect(() => compileRule(rule as AccessRule)).toThrow(TypeError)
    expect(() => compileRule(rule as AccessRule)).toThrow(message)
  })

  it('rejects a non-string method at request time', () => {
    expect(() => compileRule().requiresToken(undefined as unknown as string)).toThrow(TypeError)
  })

  it('skips undefined method entries', () => {
    expect(compileRule({ methods: { GET: undefined } }).requiresToken('GET')).toBe(true)
  })
})
