/**
 * gatehouse/mcp: protect a Streamable HTTP MCP server built with `@modelcontextprotocol/sdk` on Express,
 * Fastify, Hono or any Fetch runtime. `protectMcp(gate, { tools })` verifies the token, serves the
 * Protected Resource Metadata (RFC 9728), authorizes each JSON-RPC call under its tool's rule before the
 * SDK dispatches it (403 `insufficient_scope`: the client asks for the tool's scopes, step-up), and hands
 * the SDK its `AuthInfo`. docs/mcp.md has the whole flow.
 *
 * @example
 * ```ts
 * const gate = createGate(optionsFromEnv()) // GATEHOUSE_RESOURCE=https://notes.example.com/mcp
 * const mcp = protectMcp(gate, { rule: { scopes: 'notes:read' }, tools: { write_note: { scopes: 'notes:write' } } })
 * app.use(mcp.express.protectedResourceMetadata)
 * app.post('/mcp', express.json(), mcp.express.authenticate, async (req, res) => {
 *   const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
 *   await createServer().connect(transport)
 *   await transport.handleRequest(req, res, req.body) // tools see extra.authInfo
 * })
 * ```
 */
export { type McpAuthExtra, toAuthInfo } from './auth-info.js'
export { type McpCall, readMcpCalls } from './calls.js'
export {
  type ExpressMiddleware,
  type ExpressRequestLike,
  type FastifyHook,
  type FastifyReplyLike,
  type FastifyRequestLike,
  type McpOptions,
  type McpProtection,
  type McpWebResult,
  protectMcp,
} from './protect.js'
