// The MCP server itself, the same on every framework: two tools over notes kept in memory.
// read_notes needs notes:read and write_note needs notes:write: the rules are in server.js, given to
// gatehouse/mcp, which decides before the SDK calls the tool. A tool sees the caller as the SDK's
// `extra.authInfo`: clientId, scopes, resource, and the verified claims in `extra.claims`.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'

/** Every request's server shares them; the newest 100 are kept. */
const notes = []

export function createNotesServer() {
  const server = new McpServer({ name: 'notes', version: '1.0.0' })
  server.registerTool(
    'read_notes',
    { description: 'Read the notes', inputSchema: {} },
    async (_args, { authInfo }) => text({ reader: authInfo?.clientId, scopes: authInfo?.scopes, notes }),
  )
  server.registerTool(
    'write_note',
    { description: 'Add a note', inputSchema: { text: z.string().min(1).max(1000) } },
    async ({ text: note }, { authInfo }) => {
      notes.push({ text: note, author: authInfo?.extra?.claims?.sub })
      notes.splice(0, notes.length - 100)
      return text({ saved: note, count: notes.length })
    },
  )
  return server
}

const text = (value) => ({ content: [{ type: 'text', text: JSON.stringify(value) }] })
