/** gatehouse/hono over real HTTP (@hono/node-server on 127.0.0.1) against a real dev issuer. */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { type AuthContext, assertOwner } from '../../src/core/authz/index.js'
import { GatehouseError } from '../../src/core/errors.js'
import { createGate, type Gate } from '../../src/core/http/gate.js'
import type { JWTClaims } from '../../src/core/types.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import {
  authenticate,
  authorize,
  errorHandler,
  type GatehouseEnv,
  requireRoles,
  requireScopes,
} from '../../src/hono/index.js'

interface User {
  name: string
}

let issuer: DevIssuer
let gate: Gate<User>
let server: Server
let origin: string
let seenPrincipal: unknown

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
  gate = createGate<User>({
    issuer: issuer.issuer,
    audience: issuer.audience,
    jwksUri: issuer.jwksUri,
    principal: (a) => {
      if (a.claims.sub === 'crash') throw new Error('principal store down')
      return { name: `user:${a.claims.sub}` }
    },
  })

  const app = new Hono<GatehouseEnv<User>>()
  app.get('/public', (c) => c.json({ message: 'This is a public message!' }))
  app.get('/protected', authenticate(gate), (c) => {
    const a = c.get('auth')
    // The typed variable: the principal type flows from the gate, no cast.
    expectTypeOf(a).toEqualTypeOf<AuthContext<User, JWTClaims> | null>()
    seenPrincipal = a?.principal
    return c.json({ message: 'This is a protected message!', sub: a?.claims.sub, name: a?.principal.name })
  })
  app.get('/any', authenticate(gate, { scopes: { any: ['read:messages', 'admin'] } }), (c) =>
    c.json({ ok: true }),
  )
  app.get('/all', authenticate(gate, { scopes: ['read:messages', 'write:messages'] }), (c) =>
    c.json({ ok: true }),
  )
  app.on(
    ['GET', 'POST'],
    '/posts',
    authenticate(gate, { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } }),
    (c) => {
      const a = c.get('auth')
      return c.json(a === null ? { anonymous: true } : { anonymous: false, sub: a.claims.sub })
    },
  )
  // A route-level requirement after an optional global check.
  app.post(
    '/drafts',
    authenticate(gate, { optional: true }),
    requireScopes({ all: ['write:messages'] }),
    (c) => c.json({ ok: true }),
  )
  app.get('/admin', authenticate(gate), requireRoles('admin'), (c) => c.json({ ok: true }))
  app.get('/unwired', authorize({ scopes: 'x' }), (c) => c.json({ ok: true }))
  app.delete('/posts/:owner', authenticate(gate), (c) => {
    assertOwner(c.get('auth')!, c.req.param('owner'))
    return c.body(null, 204)
  })
  app.onError(errorHandler({ fallback: (err, c) => c.json({ appError: err.message }, 500) }))

  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
  await once(server, 'listening')
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  gate?.close()
  await issuer?.close()
})

async function call(path: string, token?: string, method = 'GET') {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` }
  const response = await fetch(origin + path, { method, headers, signal: AbortSignal.timeout(5000) })
  const text = await response.text()
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : JSON.parse(text),
  }
}

describe('authenticate()', () => {
  it('leaves unprotected routes alone', async () => {
    const res = await call('/public')
    expect(res).toMatchObject({ status: 200, body: { message: 'This is a public message!' } })
  })

  it('sets c.get("auth") with claims and the principal for a valid token', async () => {
    const res = await call('/protected', await issuer.mint({}, { sub: 'alice' }))
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ message: 'This is a protected message!', sub: 'alice', name: 'user:alice' })
    expect(seenPrincipal).toEqual({ name: 'user:alice' })
  })

  it('answers 401 with a bare Bearer challenge and the gate body without a token', async () => {
    const res = await call('/protected')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body).toEqual({
      error: 'unauthorized',
      error_description: 'Missing or invalid Authorization header',
      code: 'ERR_NO_TOKEN',
    })
  })

  it('answers 401 invalid_token for an expired token', async () => {
    const res = await call('/protected', await issuer.mint({}, { expiresIn: -120 }))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="Token has expired"',
    )
    expect(res.body.code).toBe('ERR_JWT_EXPIRED')
  })

  it('answers 400 invalid_request for a malformed Authorization header', async () => {
    const res = await call('/protected', 'not a token')
    expect(res.status).toBe(400)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_request"/)
  })

  it('passes the principal hook error to app.onError untouched', async () => {
    const res = await call('/protected', await issuer.mint({}, { sub: 'crash' }))
    expect(res).toMatchObject({ status: 500, body: { appError: 'principal store down' } })
  })
})

describe('types', () => {
  it('types c.get("auth") in any Hono app through ContextVariableMap', () => {
    const app = new Hono()
    app.get('/x', (c) => {
      expectTypeOf(c.get('auth')).toEqualTypeOf<AuthContext | null>()
      expectTypeOf(c.var.gatehouse).toEqualTypeOf<Gate>()
      return c.text('x')
    })
    expect(app.routes).toHaveLength(1)
  })
})

describe('rules and require*()', () => {
  it('scopes { any }: one of them is enough', async () => {
    expect((await call('/any', await issuer.mint({ scope: 'admin' }))).status).toBe(200)
    const res = await call('/any', await issuer.mint({ scope: 'other' }))
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
    expect(res.headers.get('www-authenticate')).toContain('scope="read:messages admin"')
  })

  it('scopes [a, b]: ALL are needed', async () => {
    expect((await call('/all', await issuer.mint({ scope: 'read:messages write:messages' }))).status).toBe(
      200,
    )
    const res = await call('/all', await issuer.mint({ scope: 'read:messages' }))
    expect(res.status).toBe(403)
    expect(res.headers.get('www-authenticate')).toContain('scope="read:messages write:messages"')
    expect(res.body).toMatchObject({
      code: 'ERR_POLICY_SCOPE',
      required: { scopes: { all: ['read:messages', 'write:messages'] } },
    })
  })

  it('optional GET: anonymous passes as null, a bad token is still 401, POST needs the scope', async () => {
    expect(await call('/posts')).toMatchObject({ status: 200, body: { anonymous: true } })
    expect(await call('/posts', await issuer.mint({}, { sub: 'bob' }))).toMatchObject({
      status: 200,
      body: { anonymous: false, sub: 'bob' },
    })
    expect((await call('/posts', await issuer.mint({}, { expiresIn: -120 }))).status).toBe(401)
    const anonymousPost = await call('/posts', undefined, 'POST')
    expect(anonymousPost.status).toBe(401)
    expect(anonymousPost.headers.get('www-authenticate')).toBe('Bearer')
    const weakPost = await call('/posts', await issuer.mint({ scope: 'read:messages' }), 'POST')
    expect(weakPost.status).toBe(403)
    expect(weakPost.headers.get('www-authenticate')).toContain('scope="write:messages"')
    expect((await call('/posts', await issuer.mint({ scope: 'write:messages' }), 'POST')).status).toBe(200)
  })

  it('requireScopes after an optional authenticate(): anonymous 401, weak token 403, strong token 200', async () => {
    const anonymous = await call('/drafts', undefined, 'POST')
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer')
    const weak = await call('/drafts', await issuer.mint({ scope: 'read:messages' }), 'POST')
    expect(weak.status).toBe(403)
    expect(weak.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", error_description="Insufficient scope", scope="write:messages"',
    )
    expect((await call('/drafts', await issuer.mint({ scope: 'write:messages' }), 'POST')).status).toBe(200)
  })

  it('requireRoles renders 403 ERR_POLICY_ROLE', async () => {
    expect((await call('/admin', await issuer.mint({ roles: ['admin'] }))).status).toBe(200)
    const res = await call('/admin', await issuer.mint({ roles: ['user'] }))
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR_POLICY_ROLE' } })
  })

  it('authorize() without authenticate() before it is a wiring error, not an open route', async () => {
    const res = await call('/unwired', await issuer.mint({ scope: 'x' }))
    expect(res).toMatchObject({
      status: 500,
      body: { appError: expect.stringContaining('authenticate() must run before') },
    })
  })

  it('owner checks thrown in a handler reach onError as GatehouseErrors', async () => {
    const token = await issuer.mint({}, { sub: 'carol' })
    expect((await call('/posts/carol', token, 'DELETE')).status).toBe(204)
    const res = await call('/posts/dave', token, 'DELETE')
    expect(res).toMatchObject({ status: 403, body: { code: 'ERR_POLICY_OWNER' } })
  })

  it('validates rules when the middleware is built', () => {
    expect(() => authenticate(gate, { scope: 'x' } as never)).toThrow(TypeError)
    expect(() => requireScopes([])).toThrow(TypeError)
  })
})

describe('errorHandler()', () => {
  it('renders with options.gate (its realm, its onRejection) where authenticate() did not run', async () => {
    const refused: string[] = []
    const own = createGate({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      realm: 'reports',
      onRejection: ({ error, path }) => refused.push(`${error.code} ${path}`),
    })
    const app = new Hono()
    app.get('/denied', () => {
      throw new GatehouseError('ERR_POLICY_DENIED')
    })
    app.onError(errorHandler({ gate: own }))
    try {
      const response = await app.request('/denied?x=1')
      expect(response.status).toBe(403)
      expect(response.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="reports", error="insufficient_scope"/,
      )
      expect(refused).toEqual(['ERR_POLICY_DENIED /denied'])
    } finally {
      own.close()
    }
  })
})
