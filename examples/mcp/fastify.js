// The notes MCP server on Fastify 5, protected by gatehouse/mcp.
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import Fastify from 'fastify'
import { createNotesServer } from './notes.js'

export async function listen(mcp, port) {
  const app = Fastify()
  // The metadata document (RFC 9728), for clients without a token; HEAD comes with GET.
  app.route({
    method: ['GET', 'OPTIONS'],
    url: mcp.resourceMetadata.path,
    handler: mcp.fastify.protectedResourceMetadata,
  })
  // Verified and authorized in a preHandler, once Fastify parsed the body; request.raw.auth is then the
  // SDK's AuthInfo, where the transport reads it.
  app.post('/mcp', { preHandler: mcp.fastify.authenticate }, async (request, reply) => {
    reply.hijack() // the SDK writes the response
    const server = createNotesServer()
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    reply.raw.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(request.raw, reply.raw, request.body)
  })
  // A stateless server has no stream to GET and no session to DELETE.
  app.route({
    method: ['GET', 'DELETE'],
    url: '/mcp',
    preHandler: mcp.fastify.authenticate,
    handler: async (_request, reply) => reply.code(405).header('allow', 'POST').send(),
  })
  await app.listen({ host: '127.0.0.1', port })
  return app.server
}
