/**
 * gatehouse/express over real HTTP (an Express 5 app on 127.0.0.1) against a real dev issuer: what the
 * contract suite cannot see from outside — where errors go (`passErrors`, the principal hook, wiring
 * mistakes), the error handler, `authOf`, and validation at construction.
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type ErrorRequestHandler } from 'express'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { type AuthContext, assertOwner } from '../../src/core/authz/index.js'
import { GatehouseError } from '../../src/core/errors.js'
import { createGate, type Gate } from '../../src/core/http/gate.js'
import type { JWTClaims } from '../../src/core/types.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import {
  authenticate,
  authOf,
  authorize,
  errorHandler,
  requireGroups,
  requirePermissions,
  requireRoles,
  requireScopes,
} from '../../src/express/index.js'

interface User {
  name: string
}
interface MyClaims extends JWTClaims {
  tenant?: string
}

let issuer: DevIssuer
let gate: Gate<User>
let server: Server
let origin: string
/** What reached the app's own error handler, per request path. */
const reachedApp = new Map<string, unknown>()

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
  const options = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri }
  gate = createGate<User>({
    ...options,
    realm: 'example',
    principal: (a) => {
      if (a.claims.sub === 'crash') throw new Error('user store down')
      return { name: `user:${a.claims.sub}` }
    },
  })
  const app = express()
  app.get('/me', authenticate(gate), (req, res) => {
    const me = authOf<User, MyClaims>(req)
    expectTypeOf(me).toEqualTypeOf<AuthContext<User, MyClaims>>()
    res.json({ sub: me.claims.sub, name: me.principal.name, tenant: me.claims.tenant ?? null })
  })
  app.get('/optional', authenticate(gate, { optional: true }), (req, res) => {
    res.json({ auth: req.auth === null ? null : 'set' })
  })
  app.get('/optional-needs-auth', authenticate(gate, { optional: true }), (req, res) =>
    res.json(authOf(req).claims),
  )
  app.get('/roles', authenticate(gate), requireRoles({ any: ['admin', 'editor'] }), (_req, res) =>
    res.json({ ok: true }),
  )
  app.get('/permissions', authenticate(gate), requirePermissions('read:users'), (_req, res) =>
    res.json({ ok: true }),
  )
  app.get('/groups', authenticate(gate), requireGroups('staff'), (_req, res) => res.json({ ok: true }))
  app.post('/drafts', authenticate(gate, { optional: true }), requireScopes('write:messages'), (_req, res) =>
    res.json({ ok: true }),
  )
  app.get('/unwired', authorize({ scopes: 'x' }), (_req, res) => res.json({ ok: true }))
  app.delete('/posts/:owner', authenticate(gate), (req, res) => {
    assertOwner(authOf(req), req.params.owner)
    res.status(204).end()
  })
  app.get('/boom', authenticate(gate), () => {
    throw new Error('handler bug')
  })
  const appHandler: ErrorRequestHandler = (error, req, res, _next) => {
    reachedApp.set(req.path, error)
    res
      .status(500)
      .json({ appError: error instanceof GatehouseError ? error.code : (error as Error).message })
  }
  // passErrors: a router whose own error handler comes before errorHandler().
  const passing = express.Router()
  passing.get('/passed', authenticate(gate, undefined, { passErrors: true }), (_req, res) =>
    res.json({ ok: true }),
  )
  // Built from options: its own gate; passErrors given with the options.
  const own = authenticate({ ...options, passErrors: true })
  passing.get('/own', own, (req, res) => res.json({ sub: req.auth?.claims.sub }))
  passing.use(appHandler)
  app.use(passing)
  app.use(errorHandler())
  app.use(appHandler)
  server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  afterAll(() => own.gate.close())
})

afterAll(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve))
  gate?.close()
  await issuer?.close()
})

const get = async (path: string, token?: string, method = 'GET') => {
  const response = await fetch(origin + path, {
    method,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: await response.json().catch(() => null),
  }
}

describe('authenticate()', () => {
  it('sets req.auth with claims and the principal', async () => {
    const token = await issuer.mint({ tenant: 't1' }, { sub: 'alice' })
    expect(await get('/me', token)).toMatchObject({
      status: 200,
      body: { sub: 'alice', name: 'user:alice', tenant: 't1' },
    })
  })

  it('renders GatehouseErrors with the gate (its realm)', async () => {
    const answer = await get('/me')
    expect(answer).toMatchObject({
      status: 401,
      challenge: 'Bearer realm="example"',
      body: { code: 'ERR_NO_TOKEN' },
    })
  })

  it('passErrors: true hands the GatehouseError to next(err) instead of answering', async () => {
    const answer = await get('/passed')
    expect(answer).toMatchObject({ status: 500, body: { appError: 'ERR_NO_TOKEN' } })
    expect(reachedApp.get('/passed')).toBeInstanceOf(GatehouseError)
  })

  it('passErrors given with gate options works the same', async () => {
    expect(await get('/own')).toMatchObject({ status: 500, body: { appError: 'ERR_NO_TOKEN' } })
    const token = await issuer.mint({}, { sub: 'bob' })
    expect(await get('/own', token)).toMatchObject({ status: 200, body: { sub: 'bob' } })
  })

  it('errors of the principal hook reach the app’s error handler unchanged', async () => {
    const token = await issuer.mint({}, { sub: 'crash' })
    expect(await get('/me', token)).toMatchObject({ status: 500, body: { appError: 'user store down' } })
    expect((reachedApp.get('/me') as Error).message).toBe('user store down')
  })

  it('lets an anonymous request through as null where the rule allows it', async () => {
    expect(await get('/optional')).toMatchObject({ status: 200, body: { auth: null } })
    const token = await issuer.mint({}, { sub: 'alice' })
    expect(await get('/optional', token)).toMatchObject({ status: 200, body: { auth: 'set' } })
  })

  it('rejects a wrong rule at construction, naming the option', () => {
    expect(() => authenticate(gate, { scope: 'read' } as never)).toThrow(
      /rule\.scope: unknown option \(did you mean scopes\?\)/,
    )
  })
})

describe('policy middlewares', () => {
  it.each([
    ['/roles', { roles: ['editor'] }, { roles: ['viewer'] }, 'ERR_POLICY_ROLE'],
    [
      '/permissions',
      { permissions: ['read:users'] },
      { permissions: ['read:users:self'] },
      'ERR_POLICY_PERMISSION',
    ],
    ['/groups', { groups: ['staff'] }, { groups: ['Staff'] }, 'ERR_POLICY_GROUP'],
  ])('%s: 200 with the claim, 403 naming the requirement without it', async (path, granted, denied, code) => {
    expect((await get(path, await issuer.mint(granted))).status).toBe(200)
    const answer = await get(path, await issuer.mint(denied))
    expect(answer).toMatchObject({ status: 403, body: { code, error: 'insufficient_scope' } })
    expect(answer.challenge).toMatch(/^Bearer realm="example", error="insufficient_scope"/)
  })

  it('requireScopes after an optional authenticate(): anonymous is 401, a token without the scope 403', async () => {
    expect(await get('/drafts', undefined, 'POST')).toMatchObject({
      status: 401,
      challenge: 'Bearer realm="example"',
    })
    const answer = await get('/drafts', await issuer.mint({ scope: 'read:messages' }), 'POST')
    expect(answer).toMatchObject({ status: 403, body: { code: 'ERR_POLICY_SCOPE' } })
    expect(answer.challenge).toContain('scope="write:messages"')
    expect((await get('/drafts', await issuer.mint({ scope: 'write:messages' }), 'POST')).status).toBe(200)
  })

  it('a policy middleware without authenticate() before it is a wiring error for the app, not a 401', async () => {
    const answer = await get('/unwired', await issuer.mint({ scope: 'x' }))
    expect(answer.status).toBe(500)
    expect(answer.body.appError).toMatch(/ran before authenticate\(\)/)
  })
})

describe('errorHandler()', () => {
  it('renders a GatehouseError thrown in a handler (assertOwner)', async () => {
    const token = await issuer.mint({}, { sub: 'alice' })
    expect((await get('/posts/alice', token, 'DELETE')).status).toBe(204)
    const answer = await get('/posts/bob', token, 'DELETE')
    expect(answer).toMatchObject({
      status: 403,
      body: { code: 'ERR_POLICY_OWNER', required: { owner: { claim: 'sub' } } },
    })
    expect(answer.challenge).toMatch(/^Bearer realm="example", error="insufficient_scope"/)
  })

  it('passes every other error on', async () => {
    expect(await get('/boom', await issuer.mint())).toMatchObject({
      status: 500,
      body: { appError: 'handler bug' },
    })
  })
})

describe('authOf()', () => {
  it('turns an anonymous request into 401 ERR_NO_TOKEN', async () => {
    expect(await get('/optional-needs-auth')).toMatchObject({ status: 401, body: { code: 'ERR_NO_TOKEN' } })
  })
})
