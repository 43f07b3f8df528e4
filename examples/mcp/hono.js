// The notes MCP server on Hono 4 (served on Node by @hono/node-server), protected by gatehouse/mcp. The
// same two calls work on Bun, Deno and Workers: web.authenticate takes and gives Fetch API objects.
import { serve } from '@hono/node-server'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import { Hono } from 'hono'
import { createNotesServer } from './notes.js'

export function listen(mcp, port) {
  const app = new Hono()
  // The metadata document (RFC 9728) at /.well-known/oauth-protected-resource/mcp, for clients without a token.
  app.use(async (c, next) => mcp.web.resourceMetadataResponse(c.req.raw) ?? next())
  app.post('/mcp', async (c) => {
    // Verified and authorized before the SDK dispatches anything, or the refusal to return.
    const checked = await mcp.web.authenticate(c.req.raw)
    if (checked.response) return checked.response
    const server = createNotesServer()
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    })
    await server.connect(transport)
    // `checked` holds what handleRequest takes: authInfo (tools see it) and the body that was checked.
    return transport.handleRequest(c.req.raw, checked)
  })
  // A stateless server has no stream to GET and no session to DELETE.
  app.all('/mcp', async (c) => {
    const checked = await mcp.web.authenticate(c.req.raw)
    return checked.response ?? c.body(null, 405, { allow: 'POST' })
  })
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () => resolve(server))
  })
}
