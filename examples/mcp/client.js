// An MCP client on the official SDK with client credentials. It meets the server's 401, reads the
// server's metadata (RFC 9728) and the issuer's (RFC 8414), gets a token for the server's resource
// (RFC 8707), lists the tools and reads the notes; given a text, it writes a note too. It asks for
// notes:read only, and for more when a tool's 403 names more (step-up).
//
//   CLIENT_ID=notes-writer CLIENT_SECRET=notes-writer-dev-secret node examples/mcp/client.js "Buy milk"
//
// MCP_URL (default http://127.0.0.1:3000/mcp); ISSUER, the authorization server the credentials belong
// to (default http://127.0.0.1:9000): the SDK sends them to no other.
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

const provider = new ClientCredentialsProvider({
  clientId: process.env.CLIENT_ID,
  clientSecret: process.env.CLIENT_SECRET,
  scope: 'notes:read',
  expectedIssuer: process.env.ISSUER ?? 'http://127.0.0.1:9000',
})

/**
 * On a 403 `insufficient_scope` the SDK gets a new token and retries once, but its client-credentials
 * request asks for the provider's own `scope`: the scopes the challenge names are added to it first.
 */
async function stepUp(url, init) {
  const response = await fetch(url, init)
  const challenge = response.status === 403 ? (response.headers.get('www-authenticate') ?? '') : ''
  const wanted = /error="insufficient_scope"/.test(challenge) && /scope="([^"]*)"/.exec(challenge)?.[1]
  if (wanted) {
    const scopes = new Set(`${provider.clientMetadata.scope} ${wanted}`.split(' '))
    console.log(`the server asks for ${wanted}: asking the issuer for it`)
    provider.clientMetadata.scope = [...scopes].join(' ')
  }
  return response
}

const url = new URL(process.env.MCP_URL ?? 'http://127.0.0.1:3000/mcp')
const client = new Client({ name: 'notes-client', version: '1.0.0' })
await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider, fetch: stepUp }))
try {
  const { tools } = await client.listTools()
  console.log(`tools: ${tools.map((tool) => tool.name).join(', ')}`)
  const note = process.argv[2]
  if (note !== undefined) {
    const written = await client.callTool({ name: 'write_note', arguments: { text: note } })
    console.log(`write_note: ${written.content[0].text}`)
  }
  const read = await client.callTool({ name: 'read_notes', arguments: {} })
  console.log(`read_notes: ${read.content[0].text}`)
} catch (error) {
  console.error(`refused: ${error.message}`)
  process.exitCode = 1
} finally {
  await client.close()
}
