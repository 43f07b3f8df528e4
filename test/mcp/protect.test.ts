/**
 * gatehouse/mcp over real HTTP, on each framework's glue of examples/mcp (Express, Fastify, Hono) with
 * the SDK's own transports behind it: the metadata document, the challenges, per-tool rules decided
 * before the SDK dispatches a call (single and batch), the SDK's `AuthInfo` in the tool, and bodies the
 * SDK must answer itself (never a 500 from Gatehouse).
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: plain JavaScript examples
import { listen as listenExpress } from '../../examples/mcp/express.js'
// @ts-expect-error: plain JavaScript examples
import { listen as listenFastify } from '../../examples/mcp/fastify.js'
// @ts-expect-error: plain JavaScript examples
import { listen as listenHono } from '../../examples/mcp/hono.js'
// @ts-expect-error: plain JavaScript examples
import { createNotesServer } from '../../examples/mcp/notes.js'
import { createGate, type Gate } from '../../src/core/http/gate.js'
import { type DevIssuer, startDevIssuer } from '../../src/dev-issuer/index.js'
import { type McpProtection, protectMcp } from '../../src/mcp/index.js'
import { callTool, initialize, request, rpc, toolResult } from './http.js'

type Listen = (mcp: McpProtection, port: number) => Promise<Server>

/** A port the system says is free; the resource identifier must name it before the server listens. */
async function freePort(): Promise<number> {
  const probe = express().listen(0, '127.0.0.1')
  await new Promise((resolve) => probe.once('listening', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

let issuer: DevIssuer
beforeAll(async () => {
  issuer = await startDevIssuer({ dataDir: null })
})
afterAll(async () => {
  await issuer?.close()
})

interface Running {
  url: string
  resource: string
  metadataUrl: string
  gate: Gate
  close(): Promise<void>
}

/** Listen with `listen` behind a gate whose resource is the server's own `/mcp`. */
async function start(listen: Listen, options: Parameters<typeof protectMcp>[1] = RULES): Promise<Running> {
  const port = await freePort()
  const resource = `http://127.0.0.1:${port}/mcp`
  const gate = createGate({ issuer: issuer.issuer, resource })
  const server = await listen(protectMcp(gate, options), port)
  return {
    url: resource,
    resource,
    metadataUrl: `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`,
    gate,
    async close() {
      server.closeAllConnections?.()
      await new Promise((resolve) => server.close(resolve))
      gate.close()
    },
  }
}

const RULES = { tools: { read_notes: { scopes: 'notes:read' }, write_note: { scopes: 'notes:write' } } }

const FRAMEWORKS: [string, Listen][] = [
  ['Express', listenExpress],
  ['Fastify', listenFastify],
  ['Hono', listenHono],
]

describe.each(FRAMEWORKS)('%s', (_name, listen) => {
  let server: Running
  const token = (claims: Record<string, unknown>) => issuer.mint({ aud: server.resource, ...claims })
  beforeAll(async () => {
    server = await start(listen)
  })
  afterAll(async () => {
    await server?.close()
  })

  it('serves the Protected Resource Metadata at the path-suffixed well-known URL (RFC 9728 §3.1)', async () => {
    const response = await fetch(server.metadataUrl)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(await response.json()).toMatchObject({
      resource: server.resource,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
    })
    const preflight = await fetch(server.metadataUrl, { method: 'OPTIONS' })
    expect(preflight.status).toBe(204)
  })

  it('answers a request without a token 401 with a challenge naming the metadata', async () => {
    const answer = await rpc(server.url, initialize())
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${server.metadataUrl}"`)
  })

  it('lets any valid token for the resource initialize and list the tools', async () => {
    const bare = await token({ scope: '' })
    const init = await rpc(server.url, initialize(), { token: bare })
    expect(init.status).toBe(200)
    expect(init.message).toMatchObject({ result: { serverInfo: { name: 'notes' } } })
    const list = await rpc(server.url, request('tools/list'), { token: bare })
    expect(list.status).toBe(200)
    const { tools } = list.message!.result as { tools: { name: string }[] }
    expect(tools.map((t) => t.name).sort()).toEqual(['read_notes', 'write_note'])
  })

  it('hands the tool the SDK’s AuthInfo of the verified token', async () => {
    const answer = await rpc(server.url, callTool('read_notes'), {
      token: await token({ scope: 'notes:read', client_id: 'reader-app' }),
    })
    expect(answer.status).toBe(200)
    expect(toolResult(answer.message)).toMatchObject({ reader: 'reader-app', scopes: ['notes:read'] })
  })

  it('answers a call of a tool without its scope 403 with the step-up challenge, before the tool runs', async () => {
    const before = toolResult(
      (await rpc(server.url, callTool('read_notes'), { token: await token({ scope: 'notes:read' }) }))
        .message,
    ) as { notes: unknown[] }
    const answer = await rpc(server.url, callTool('write_note', { text: 'refused' }), {
      token: await token({ scope: 'notes:read' }),
    })
    expect(answer.status).toBe(403)
    expect(answer.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="Insufficient scope", scope="notes:write", resource_metadata="${server.metadataUrl}"`,
    )
    expect(JSON.parse(answer.text)).toMatchObject({ error: 'insufficient_scope', code: 'ERR_POLICY_SCOPE' })
    const after = toolResult(
      (await rpc(server.url, callTool('read_notes'), { token: await token({ scope: 'notes:read' }) }))
        .message,
    ) as { notes: unknown[] }
    expect(after.notes).toEqual(before.notes)
  })

  it('runs the tool once the token has the scope', async () => {
    const answer = await rpc(server.url, callTool('write_note', { text: 'milk' }), {
      token: await token({ scope: 'notes:read notes:write', sub: 'writer' }),
    })
    expect(answer.status).toBe(200)
    expect(toolResult(answer.message)).toMatchObject({ saved: 'milk' })
  })

  it('refuses a batch when one of its calls is refused', async () => {
    const answer = await rpc(
      server.url,
      [request('tools/list', undefined, 1), callTool('write_note', { text: 'x' }, 2)],
      {
        token: await token({ scope: 'notes:read' }),
      },
    )
    expect(answer.status).toBe(403)
    expect(answer.headers.get('www-authenticate')).toContain('scope="notes:write"')
  })

  it.each([
    ['a token for another resource', { aud: 'http://127.0.0.1:1/mcp' }],
    ['a token without aud', { aud: undefined }],
  ])('refuses %s with 401 invalid_token', async (_case, claims) => {
    const answer = await rpc(server.url, request('tools/list'), {
      token: await issuer.mint({ scope: 'notes:read', ...claims }),
    })
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toMatch(
      new RegExp(
        `^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="${server.metadataUrl}"$`,
      ),
    )
  })

  it.each([
    ['a method that is not a string', { jsonrpc: '2.0', id: 1, method: 5 }],
    ['an array of numbers', [1, 2]],
    ['a string', 'x'],
    ['null', null],
    ['an object without method', { hello: 'world' }],
  ])(
    'passes %s on: 400 from the SDK (or from express.json, which takes only objects and arrays)',
    async (_case, body) => {
      const answer = await rpc(server.url, JSON.stringify(body), { token: await token({ scope: '' }) })
      expect(answer.status).toBe(400)
      expect(answer.headers.get('www-authenticate')).toBeNull()
      if ((typeof body === 'object' && body !== null) || _name !== 'Express')
        expect(answer.message).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } })
    },
  )

  it('passes a tools/call whose name is not a string on to the SDK, which refuses to call anything', async () => {
    const answer = await rpc(server.url, callTool(7), { token: await token({ scope: '' }) })
    expect(answer.status).toBe(200)
    expect(answer.message).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: expect.any(Number) } })
  })

  it('answers a body that is not JSON 400, not 500', async () => {
    const answer = await rpc(server.url, '{"jsonrpc": ', { token: await token({ scope: '' }) })
    expect(answer.status).toBe(400)
  })
})

describe('Express without express.json()', () => {
  let server: Running
  const token = (claims: Record<string, unknown>) => issuer.mint({ aud: server.resource, ...claims })
  /** The SDK's README pattern, with gatehouse/mcp reading the body itself. */
  const listen: Listen = (mcp, port) => {
    const app = express()
    app.post('/mcp', mcp.express.authenticate, async (req, res) => {
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
      await createNotesServer().connect(transport)
      // This test program includes gatehouse/express, whose `req.auth` type (AuthContext) is not the SDK's.
      await transport.handleRequest(req as never, res, req.body)
    })
    return new Promise((resolve) => {
      const running = app.listen(port, '127.0.0.1', () => resolve(running))
    })
  }
  beforeAll(async () => {
    server = await start(listen, { ...RULES, maxBodySize: 2048 })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('reads the body to decide: 403 for the write, the read dispatched', async () => {
    const read = await token({ scope: 'notes:read' })
    expect((await rpc(server.url, callTool('write_note', { text: 'x' }), { token: read })).status).toBe(403)
    const answer = await rpc(server.url, callTool('read_notes'), { token: read })
    expect(answer.status).toBe(200)
    expect(toolResult(answer.message)).toMatchObject({ scopes: ['notes:read'] })
  })

  it('leaves a body that is not JSON to the SDK: 400 -32700', async () => {
    const answer = await rpc(server.url, '{"jsonrpc": ', { token: await token({ scope: '' }) })
    expect(answer.status).toBe(400)
    expect(answer.message).toMatchObject({ error: { code: -32700 } })
  })

  it('answers a body over maxBodySize 413 as the SDK would, unread', async () => {
    const big = callTool('write_note', { text: 'x'.repeat(4096) })
    const answer = await rpc(server.url, big, { token: await token({ scope: 'notes:write' }) })
    expect(answer.status).toBe(413)
    expect(answer.message).toMatchObject({ error: { code: -32000 } })
  })
})

describe('Hono: a body over maxBodySize', () => {
  let server: Running
  beforeAll(async () => {
    server = await start(listenHono, { ...RULES, maxBodySize: 2048 })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('is answered 413, unread', async () => {
    const token = await issuer.mint({ aud: server.resource, scope: 'notes:write' })
    const answer = await rpc(server.url, callTool('write_note', { text: 'x'.repeat(4096) }), { token })
    expect(answer.status).toBe(413)
  })
})

describe('rules', () => {
  let server: Running
  const token = (claims: Record<string, unknown>) => issuer.mint({ aud: server.resource, ...claims })
  beforeAll(async () => {
    server = await start(listenExpress, {
      rule: { scopes: 'notes:list' },
      methods: { 'tools/list': { scopes: 'notes:catalog' } },
      tools: { ...RULES.tools, constructor: { scopes: 'never' } },
    })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('checks the endpoint’s rule first, then the method’s', async () => {
    const noBase = await rpc(server.url, request('tools/list'), {
      token: await token({ scope: 'notes:catalog' }),
    })
    expect(noBase.status).toBe(403)
    expect(noBase.headers.get('www-authenticate')).toContain('scope="notes:list"')
    const noMethod = await rpc(server.url, request('tools/list'), {
      token: await token({ scope: 'notes:list' }),
    })
    expect(noMethod.status).toBe(403)
    expect(noMethod.headers.get('www-authenticate')).toContain('scope="notes:catalog"')
    const both = await rpc(server.url, request('tools/list'), {
      token: await token({ scope: 'notes:list notes:catalog' }),
    })
    expect(both.status).toBe(200)
  })

  it('looks tool names up as own keys only', async () => {
    const answer = await rpc(server.url, callTool('toString'), {
      token: await token({ scope: 'notes:list' }),
    })
    expect(answer.status).toBe(200) // the SDK answers: no such tool
    expect(answer.message).toMatchObject({ result: { isError: true } })
  })
})

describe('anonymous access (rule: { optional: true })', () => {
  let server: Running
  beforeAll(async () => {
    server = await start(listenHono, { rule: { optional: true }, tools: RULES.tools })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('lets a request without a token list the tools, and answers a call that needs one 401', async () => {
    expect((await rpc(server.url, request('tools/list'))).status).toBe(200)
    const answer = await rpc(server.url, callTool('read_notes'))
    expect(answer.status).toBe(401)
    expect(answer.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${server.metadataUrl}"`)
  })

  it('still verifies a token that is sent', async () => {
    const answer = await rpc(server.url, request('tools/list'), { token: 'not-a-token' })
    expect(answer.status).toBe(401)
  })
})

describe('protectMcp options', () => {
  const gate = () => createGate({ issuer: 'https://issuer.example/', resource: 'https://notes.example/mcp' })

  it('needs a gate with a resource identifier', () => {
    const bare = createGate({ issuer: 'https://issuer.example/', audience: 'https://notes.example/mcp' })
    expect(() => protectMcp(bare)).toThrow(/^resource: expected the MCP endpoint’s URL/)
    bare.close()
  })

  it('names a wrong rule by its tool or method', () => {
    const g = gate()
    expect(() => protectMcp(g, { tools: { write_note: { scope: 'x' } as never } })).toThrow(
      'tools.write_note.scope: unknown option (did you mean scopes?)',
    )
    expect(() => protectMcp(g, { methods: { 'resources/read': { scopes: [] } } })).toThrow(
      /^methods\.resources\/read\.scopes/,
    )
    expect(() => protectMcp(g, { tools: [] as never })).toThrow(/^tools: expected an object/)
    g.close()
  })

  it('refuses unknown options and a wrong maxBodySize', () => {
    const g = gate()
    expect(() => protectMcp(g, { tool: {} } as never)).toThrow(
      'tool: unknown option (one of rule, tools, methods, maxBodySize)',
    )
    expect(() => protectMcp(g, { maxBodySize: 0 })).toThrow(/^maxBodySize/)
    g.close()
  })

  it('builds the SDK’s AuthInfo', async () => {
    const g = createGate({ issuer: issuer.issuer, resource: 'http://127.0.0.1:1/mcp' })
    const mcp = protectMcp(g)
    const raw = await issuer.mint({ aud: 'http://127.0.0.1:1/mcp', scope: 'a b', client_id: 'app', sub: 'u' })
    const auth = await g.check({ method: 'POST', headers: { authorization: `Bearer ${raw}` } })
    const info = mcp.authInfo(auth!)
    expect(info).toMatchObject({
      token: raw,
      clientId: 'app',
      scopes: ['a', 'b'],
      extra: { tokenType: 'bearer' },
    })
    expect(info.resource?.href).toBe('http://127.0.0.1:1/mcp')
    expect(info.expiresAt).toBe(auth!.claims.exp)
    expect((info.extra as { claims: { sub: string } }).claims.sub).toBe('u')
    g.close()
  })
})
