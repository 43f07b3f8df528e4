// Every endpoint of the adapter contract (test/contract/README.md) on Hono, the app that test/contract
// runs: node examples/dist/hono/contract.js with GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
// and PORT (0: any free port).
import { serve } from '@hono/node-server'
import { assertOwner, createGate, optionsFromEnv } from 'gatehouse'
import { authenticate, authOf, errorHandler, protectedResourceMetadata, requireScopes } from 'gatehouse/hono'
import { Hono } from 'hono'

const gate = createGate({
  ...optionsFromEnv(),
  // Why a request was refused, for the server's log: code, status and what was checked. Never the token.
  onRejection: ({ error, method, path }) =>
    console.error(`refused ${method} ${path}: ${error.status} ${error.code}`),
})
await gate.warmUp() // a wrong issuer, metadata document or key set stops the start
const app = new Hono()
app.onError(errorHandler()) // GatehouseErrors thrown by handlers (assertOwner) → RFC 6750 responses
// With GATEHOUSE_RESOURCE: the Protected Resource Metadata (RFC 9728), for clients without a token.
app.use(protectedResourceMetadata(gate))

app.get('/public', (c) => c.json({ message: 'This is a public message!' }))
app.get('/protected', authenticate(gate), (c) =>
  c.json({ message: 'This is a protected message!', sub: authOf(c).claims.sub }),
)

app.get('/api/public', (c) =>
  c.json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." }),
)
// How the token came (bearer or dpop) and, with DPoP, the proof key's thumbprint.
app.get('/api/private', authenticate(gate), (c) => {
  const { tokenType, jkt } = authOf(c)
  return c.json({
    message: 'Hello from a private endpoint! You need to be authenticated to see this.',
    tokenType,
    jkt,
  })
})
app.get('/api/private-scoped', authenticate(gate, { scopes: 'read:messages' }), (c) =>
  c.json({
    message:
      'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
  }),
)

// Anyone may read (a token, if sent, must be valid); writing needs write:messages.
const posts = authenticate(gate, { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } })
app.get('/api/posts', posts, (c) => {
  const user = c.get('auth')
  return c.json(user === null ? { anonymous: true } : { anonymous: false, sub: user.claims.sub })
})
app.post('/api/posts', posts, (c) => c.json({ created: true, sub: authOf(c).claims.sub }, 201))
app.delete('/api/posts/:owner', authenticate(gate), (c) => {
  assertOwner(authOf(c), c.req.param('owner')) // 403 ERR_POLICY_OWNER unless sub === :owner
  return c.body(null, 204)
})

// Two levels, both must pass: every /api/reports route lets anyone GET and needs write:reports to
// DELETE; this one also needs admin.
app.use(
  '/api/reports/*',
  authenticate(gate, { optional: ['GET'], methods: { DELETE: { scopes: 'write:reports' } } }),
)
app.get('/api/reports/admin', requireScopes('admin'), (c) =>
  c.json({ admin: true, sub: authOf(c).claims.sub }),
)
app.delete('/api/reports/admin', requireScopes('admin'), (c) => c.body(null, 204))

const server = serve(
  { fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 3000) },
  (info) => {
    console.log(`hono example listening on http://127.0.0.1:${info.port}`)
  },
)

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    gate.close()
    server.close(() => process.exit(0))
    if ('closeAllConnections' in server) server.closeAllConnections()
  })
}
