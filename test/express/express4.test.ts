/**
 * gatehouse/express on Express 4, which does not catch rejected promises: every middleware must settle
 * its own promise and report through `next`. The same cases as on Express 5 where the two differ.
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
// @ts-expect-error: the npm alias express4 (express@4) shares Express 5's types at most
import express4 from 'express4'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertOwner } from '../../src/core/authz/index.js'
import { createGate, type Gate } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { authenticate, errorHandler, requireScopes } from '../../src/express/index.js'

type Req = { auth: { claims: { sub: string } } | null; params: Record<string, string> }
type Res = { json(body: unknown): void; status(code: number): Res; end(): void }

let issuer: DevIssuer
let gate: Gate
let server: Server
let origin: string
const reachedApp: unknown[] = []

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
  gate = createGate({
    issuer: issuer.issuer,
    audience: issuer.audience,
    jwksUri: issuer.jwksUri,
    principal: (a) => {
      if (a.claims.sub === 'crash') throw new Error('user store down')
      return { name: a.claims.sub }
    },
  })
  const app = express4()
  app.get('/protected', authenticate(gate), (req: Req, res: Res) => res.json({ sub: req.auth?.claims.sub }))
  app.get('/scoped', authenticate(gate), requireScopes('read:messages'), (_req: Req, res: Res) =>
    res.json({ ok: true }),
  )
  app.get('/passed', authenticate(gate, undefined, { passErrors: true }), (_req: Req, res: Res) =>
    res.json({}),
  )
  app.delete('/posts/:owner', authenticate(gate), (req: Req, res: Res) => {
    assertOwner(req.auth as never, req.params.owner)
    res.status(204).end()
  })
  app.use(errorHandler({ gate }))
  app.use((error: Error, _req: unknown, res: Res, _next: unknown) => {
    reachedApp.push(error)
    res.status(599).json({ app: error.name })
  })
  server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server?.close()
  gate?.close()
  await issuer?.close()
})

async function call(path: string, token?: string, method = 'GET') {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  const response = await fetch(origin + path, { method, headers, signal: AbortSignal.timeout(5000) })
  const text = await response.text()
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: text ? JSON.parse(text) : undefined,
  }
}

describe('gatehouse/express on Express 4', () => {
  it('verifies and sets req.auth', async () => {
    expect(await call('/protected', await issuer.mint({}, { sub: 'alice' }))).toMatchObject({
      status: 200,
      body: { sub: 'alice' },
    })
  })

  it('answers 401 with a bare challenge, without a hanging request', async () => {
    expect(await call('/protected')).toMatchObject({
      status: 401,
      challenge: 'Bearer',
      body: { code: 'ERR_NO_TOKEN' },
    })
  })

  it('answers 403 insufficient_scope with scope=', async () => {
    const answer = await call('/scoped', await issuer.mint({ scope: 'other' }))
    expect(answer.status).toBe(403)
    expect(answer.challenge).toContain('scope="read:messages"')
  })

  it('passErrors hands the GatehouseError to the error chain (errorHandler renders it)', async () => {
    const expired = await issuer.mint({}, { expiresIn: -60 })
    expect(await call('/passed', expired)).toMatchObject({ status: 401, body: { code: 'ERR_JWT_EXPIRED' } })
  })

  it('renders an owner failure thrown in a handler; the principal hook error reaches the app', async () => {
    expect((await call('/posts/alice', await issuer.mint({}, { sub: 'alice' }), 'DELETE')).status).toBe(204)
    expect(await call('/posts/alice', await issuer.mint({}, { sub: 'bob' }), 'DELETE')).toMatchObject({
      status: 403,
      body: { code: 'ERR_POLICY_OWNER' },
    })
    expect(await call('/protected', await issuer.mint({}, { sub: 'crash' }))).toMatchObject({ status: 599 })
    expect(String(reachedApp.at(-1))).toContain('user store down')
  })
})
