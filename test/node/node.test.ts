/**
 * gatehouse/node over real HTTP (node:http on 127.0.0.1) against a real dev issuer: `authenticate`'s three
 * outcomes, `withAuth`'s error routing, and `headersOf` (repeated Authorization headers, which
 * Node itself would silently reduce to the first).
 */
import { once } from 'node:events'
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { assertOwner } from '../../src/core/authz/index.js'
import { createGate, type Gate } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { authenticate, headersOf, withAuth } from '../../src/node/index.js'

let issuer: DevIssuer
let gate: Gate<{ name: string }>
const servers: Server[] = []
const outcomes: unknown[] = []

async function serve(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(listener)
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

interface Answer {
  status: number
  challenge: string | undefined
  // biome-ignore lint/suspicious/noExplicitAny: test bodies
  body: any
}

/** node:http client: it can send repeated headers, which fetch would join itself. */
function call(url: string, headers: Record<string, string | string[]> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () => {
        const challenge = res.headers['www-authenticate']
        resolve({ status: res.statusCode ?? 0, challenge, body: text ? JSON.parse(text) : null })
      })
    })
    req.setTimeout(5000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

let origin: string
let handlerOrigin: string
const appErrors: unknown[] = []

beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
  gate = createGate({
    issuer: issuer.issuer,
    audience: issuer.audience,
    jwksUri: issuer.jwksUri,
    principal: (a) => {
      if (a.claims.sub === 'crash') throw new Error('user store down')
      return { name: `user:${a.claims.sub}` }
    },
  })
  origin = await serve(async (req, res) => {
    const rule =
      req.url === '/optional'
        ? { optional: true }
        : req.url === '/scoped'
          ? { scopes: 'read:messages' }
          : undefined
    try {
      const auth = await authenticate(gate, req, res, rule)
      outcomes.push(auth === undefined ? 'sent' : auth === null ? 'anonymous' : auth.principal.name)
      if (auth !== undefined)
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ name: auth?.principal.name ?? null }))
    } catch (error) {
      outcomes.push(error)
      res.writeHead(500).end(JSON.stringify({ appError: (error as Error).message }))
    }
  })
  handlerOrigin = await serve(
    withAuth(
      gate,
      (req, res, auth) => {
        if (req.url === '/boom') throw new Error('handler bug')
        assertOwner(auth!, req.url!.slice(1))
        res.writeHead(204).end()
      },
      {
        onError: (error, _req, res) => {
          appErrors.push(error)
          res.writeHead(500).end(JSON.stringify({ appError: (error as Error).message }))
        },
      },
    ),
  )
})

afterAll(async () => {
  for (const server of servers) server.closeAllConnections()
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  gate?.close()
  await issuer?.close()
})

describe('authenticate()', () => {
  it('resolves with the auth context (principal included) for a valid token', async () => {
    expect(await call(`${origin}/`, bearer(await issuer.mint({}, { sub: 'alice' })))).toMatchObject({
      status: 200,
      body: { name: 'user:alice' },
    })
    expect(outcomes.at(-1)).toBe('user:alice')
  })

  it('resolves with undefined after writing the error response', async () => {
    expect(await call(`${origin}/`)).toMatchObject({
      status: 401,
      challenge: 'Bearer',
      body: { code: 'ERR_NO_TOKEN' },
    })
    expect(outcomes.at(-1)).toBe('sent')
    const answer = await call(`${origin}/scoped`, bearer(await issuer.mint({})))
    expect(answer).toMatchObject({ status: 403, body: { code: 'ERR_POLICY_SCOPE' } })
    expect(answer.challenge).toContain('scope="read:messages"')
  })

  it('resolves with null for an anonymous request the rule allows', async () => {
    expect(await call(`${origin}/optional`)).toMatchObject({ status: 200, body: { name: null } })
    expect(outcomes.at(-1)).toBe('anonymous')
  })

  it('rejects with the principal hook’s own error (the application’s, not a 401)', async () => {
    expect(await call(`${origin}/`, bearer(await issuer.mint({}, { sub: 'crash' })))).toMatchObject({
      status: 500,
      body: { appError: 'user store down' },
    })
    expect((outcomes.at(-1) as Error).message).toBe('user store down')
  })

  it('answers 400 invalid_request for two Authorization headers (Node alone would keep the first)', async () => {
    const token = await issuer.mint({})
    const answer = await call(`${origin}/`, { authorization: [`Bearer ${token}`, 'Bearer abc'] })
    expect(answer).toMatchObject({ status: 400, body: { code: 'ERR_INVALID_REQUEST' } })
  })
})

describe('withAuth()', () => {
  it('renders GatehouseErrors of the pipeline and of the handler (assertOwner)', async () => {
    const token = await issuer.mint({}, { sub: 'alice' })
    expect((await call(`${handlerOrigin}/alice`, bearer(token))).status).toBe(204)
    expect(await call(`${handlerOrigin}/bob`, bearer(token))).toMatchObject({
      status: 403,
      body: { code: 'ERR_POLICY_OWNER' },
    })
    expect(await call(`${handlerOrigin}/alice`)).toMatchObject({ status: 401, challenge: 'Bearer' })
  })

  it('hands other errors (handler, principal hook) to onError', async () => {
    expect(await call(`${handlerOrigin}/boom`, bearer(await issuer.mint({})))).toMatchObject({
      status: 500,
      body: { appError: 'handler bug' },
    })
    expect(await call(`${handlerOrigin}/x`, bearer(await issuer.mint({}, { sub: 'crash' })))).toMatchObject({
      status: 500,
      body: { appError: 'user store down' },
    })
    expect(appErrors.map((error) => (error as Error).message)).toEqual(['handler bug', 'user store down'])
  })

  it('by default logs the error and answers a bare 500', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const url = await serve(
        withAuth(gate, () => {
          throw new Error('unhandled')
        }),
      )
      expect(await call(url, bearer(await issuer.mint({})))).toEqual({
        status: 500,
        challenge: undefined,
        body: { error: 'server_error' },
      })
      expect(logged).toHaveBeenCalledWith(expect.objectContaining({ message: 'unhandled' }))
    } finally {
      logged.mockRestore()
    }
  })
})

describe('headersOf()', () => {
  it('returns req.headers itself when Authorization is not repeated', () => {
    const headers = { authorization: 'Bearer a', host: 'x' }
    expect(headersOf({ headers, rawHeaders: ['Authorization', 'Bearer a', 'Host', 'x'] })).toBe(headers)
  })

  it('joins repeated Authorization headers as Fetch does, whatever their case', () => {
    const headers = { authorization: 'Bearer a', host: 'x' }
    expect(
      headersOf({
        headers,
        rawHeaders: ['authorization', 'Bearer a', 'Host', 'x', 'AUTHORIZATION', 'Basic b'],
      }),
    ).toEqual({
      authorization: 'Bearer a, Basic b',
      host: 'x',
    })
  })
})
