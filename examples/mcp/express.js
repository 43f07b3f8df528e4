// The notes MCP server on Express 5, protected by gatehouse/mcp.
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import express from 'express'
import { createNotesServer } from './notes.js'

export function listen(mcp, port) {
  const app = express()
  // The metadata document (RFC 9728) at /.well-known/oauth-protected-resource/mcp, for clients without a token.
  app.use(mcp.express.protectedResourceMetadata)
  // Verified and authorized before the SDK dispatches anything; req.auth is then the SDK's AuthInfo.
  app.post('/mcp', express.json(), mcp.express.authenticate, async (req, res) => {
    // Stateless: a server and a transport per request.
    const server = createNotesServer()
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  // A stateless server has no stream to GET and no session to DELETE.
  app.all('/mcp', mcp.express.authenticate, (_req, res) => {
    res.status(405).set('allow', 'POST').end()
  })
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', (error) => (error ? reject(error) : resolve(server)))
  })
}
