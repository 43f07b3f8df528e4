// A development authorization server to try the notes MCP server with: Gatehouse's dev issuer (loopback
// only, keys in memory) with two clients, notes-reader (notes:read) and notes-writer (notes:read and
// notes:write). Their secrets are fixed so the README's commands work as written: never reuse them.
//
//   node examples/mcp/issuer.js        (PORT, default 9000)
import { startDevIssuer } from 'gatehouse/testing'

const issuer = await startDevIssuer({
  port: Number(process.env.PORT ?? 9000),
  clients: [
    { clientId: 'notes-reader', clientSecret: 'notes-reader-dev-secret', scopes: ['notes:read'] },
    {
      clientId: 'notes-writer',
      clientSecret: 'notes-writer-dev-secret',
      scopes: ['notes:read', 'notes:write'],
    },
  ],
})
console.log(`listening on ${issuer.url}`)
