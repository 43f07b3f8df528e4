/**
 * Rules through the request pipeline (gate.ts): optional methods let anonymous requests through, but a
 * token that is sent is verified; per-method requirements and the 403 challenge end to end.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { compileRule } from '../../../src/core/authz/rule.js'
import { idTokenGuard } from '../../../src/core/authz/token-guard.js'
import { GatehouseError } from '../../../src/core/errors.js'
import { createGate } from '../../../src/core/http/gate.js'
import { AUDIENCE, ISSUER, jwksOf, mint, NOW, rejection, testKey } from '../../helpers/tokens.js'

const key = await testKey('RS256')
const gate = createGate({ issuer: ISSUER, audience: AUDIENCE, keys: jwksOf(key), now: () => NOW * 1000 })
afterAll(() => gate.close())

const request = (method: string, token?: string) => ({
  method,
  headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
})

const rule = compileRule({
  scopes: 'write:posts',
  optional: ['GET'],
  methods: { DELETE: { roles: 'admin' }, OPTIONS: 'public' },
})

describe('optional authentication through the gate', () => {
  it('no token on an optional method (and HEAD) → anonymous (null)', async () => {
    expect(await gate.check(request('GET'), rule)).toBeNull()
    expect(await gate.check(request('HEAD'), rule)).toBeNull()
    expect(await gate.check(request('OPTIONS'), rule)).toBeNull()
  })

  it('a valid token on an optional method → authenticated, with no requirements applied', async () => {
    const auth = await gate.check(request('GET', await mint({ scope: 'read' })), rule)
    expect(auth?.claims.sub).toBe('user-1')
    expect(auth?.scopes.has('read')).toBe(true)
  })

  it.each([
    ['an expired token', { exp: NOW - 3600 }, 'ERR_JWT_EXPIRED'],
    ['a token for another API', { aud: 'https://other.example.com' }, 'ERR_JWT_AUDIENCE_INVALID'],
    ['an ID token', { nonce: 'n' }, 'ERR_JWT_NOT_ACCESS_TOKEN'],
  ])('%s on an optional method → 401', async (_name, claims, code) => {
    const strict = createGate({
      issuer: ISSUER,
      audience: AUDIENCE,
      keys: jwksOf(key),
      now: () => NOW * 1000,
      validate: idTokenGuard(),
    })
    try {
      const error = await rejection(strict.check(request('GET', await mint(claims)), rule))
      expect(error).toBeInstanceOf(GatehouseError)
      expect(error).toMatchObject({ code, status: 401 })
    } finally {
      strict.close()
    }
  })

  it('a garbage token on an optional method → 401, never anonymous', async () => {
    expect(await rejection(gate.check(request('GET', 'not.a.jwt'), rule))).toMatchObject({ status: 401 })
  })

  it("a 'public' method does not read the token: garbage, expired or valid, the request is anonymous", async () => {
    const expired = await mint({ exp: NOW - 60 })
    for (const token of ['not.a.jwt', expired, await mint({ roles: ['admin'] })]) {
      expect(await gate.check(request('OPTIONS', token), rule)).toBeNull()
      expect(gate.checkSync(request('OPTIONS', token), rule)).toBeNull()
    }
    // A malformed Authorization header is not even parsed.
    expect(await gate.check({ method: 'OPTIONS', headers: { authorization: 'Bearer a b' } }, rule)).toBeNull()
  })

  it('no token on a required method → 401 with a bare Bearer challenge', async () => {
    const error = (await rejection(gate.check(request('POST'), rule))) as GatehouseError
    expect(error.code).toBe('ERR_NO_TOKEN')
    expect(gate.reject(error).headers['www-authenticate']).toBe('Bearer')
  })

  it('the base rule and per-method rules apply to required methods, with the exact 403 challenge', async () => {
    const error = (await rejection(
      gate.check(request('POST', await mint({ scope: 'read' })), rule),
    )) as GatehouseError
    const response = gate.reject(error)
    expect(response.status).toBe(403)
    expect(response.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", error_description="Insufficient scope", scope="write:posts"',
    )
    expect(response.body.required).toEqual({ scopes: { all: ['write:posts'] } })
    await expect(
      gate.check(request('POST', await mint({ scope: 'write:posts' })), rule),
    ).resolves.not.toBeNull()
    expect(
      await rejection(gate.check(request('DELETE', await mint({ scope: 'write:posts' })), rule)),
    ).toMatchObject({
      code: 'ERR_POLICY_ROLE',
    })
    await expect(
      gate.check(request('DELETE', await mint({ roles: ['admin'] })), rule),
    ).resolves.not.toBeNull()
  })
})
