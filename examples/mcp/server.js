// An MCP server with two tools, read_notes (notes:read) and write_note (notes:write), protected by
// Gatehouse on Express, Hono or Fastify (FRAMEWORK, default express). After `npm run build`:
//
//   GATEHOUSE_ISSUER=http://127.0.0.1:9000 PORT=3000 node examples/mcp/server.js
//
// MCP at http://127.0.0.1:PORT/mcp. Its resource identifier is GATEHOUSE_RESOURCE (default that URL):
// tokens must be issued for it (RFC 8707), and clients find the authorization server, the issuer unless
// GATEHOUSE_AUTHORIZATION_SERVERS says otherwise, in its metadata (RFC 9728). GATEHOUSE_JWKS_URL is optional.
import { createServer } from 'node:net'
import { createGate, optionsFromEnv } from 'gatehouse'
import { protectMcp } from 'gatehouse/mcp'

const FRAMEWORKS = ['express', 'hono', 'fastify']
const framework = process.env.FRAMEWORK ?? 'express'
if (!FRAMEWORKS.includes(framework)) throw new TypeError(`FRAMEWORK: one of ${FRAMEWORKS.join(', ')}`)
const port = await portOf(Number(process.env.PORT ?? 3000))

const gate = createGate(
  optionsFromEnv({
    GATEHOUSE_RESOURCE: `http://127.0.0.1:${port}/mcp`,
    GATEHOUSE_SCOPES_SUPPORTED: 'notes:read notes:write',
    ...process.env,
  }),
)
await gate.warmUp() // a wrong issuer or key set stops the start here, not at the first request

// Any valid token for this resource may connect and list the tools; each tool needs its scope.
const mcp = protectMcp(gate, {
  tools: { read_notes: { scopes: 'notes:read' }, write_note: { scopes: 'notes:write' } },
})
const { listen } = await import(`./${framework}.js`)
await listen(mcp, port)
console.log(`listening on http://127.0.0.1:${port} (${framework}): MCP at ${mcp.resourceMetadata.resource}`)

/** PORT=0 asks for any free port: chosen before the gate, whose resource identifier names it. */
async function portOf(wanted) {
  if (wanted !== 0) return wanted
  const probe = createServer()
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port: free } = probe.address()
  await new Promise((resolve) => probe.close(resolve))
  return free
}
