// The seeds' endpoints on Hono, protected by gatehouse. Configuration from the environment:
// GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL (optional), PORT (default 3000; 0 = any).
import { serve } from '@hono/node-server'
import { assertOwner, createGate, optionsFromEnv } from 'gatehouse'
import { auth, errorHandler } from 'gatehouse/hono'
import { Hono } from 'hono'

const gate = createGate(optionsFromEnv())
const app = new Hono()
app.onError(errorHandler()) // GatehouseErrors thrown by handlers (assertOwner) → RFC 6750 responses

app.get('/public', (c) => c.json({ message: 'This is a public message!' }))
app.get('/protected', auth(gate), (c) =>
  c.json({ message: 'This is a protected message!', sub: c.get('auth').claims.sub }),
)

app.get('/api/public', (c) =>
  c.json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." }),
)
app.get('/api/private', auth(gate), (c) =>
  c.json({ message: 'Hello from a private endpoint! You need to be authenticated to see this.' }),
)
app.get('/api/private-scoped', auth(gate, { scopes: 'read:messages' }), (c) =>
  c.json({
    message:
      'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
  }),
)

// Anyone may read (a token, if sent, must be valid); writing needs write:messages.
const posts = auth(gate, { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } })
app.get('/api/posts', posts, (c) => {
  const user = c.get('auth')
  return c.json(user === null ? { anonymous: true } : { anonymous: false, sub: user.claims.sub })
})
app.post('/api/posts', posts, (c) => c.json({ created: true, sub: c.get('auth').claims.sub }, 201))
app.delete('/api/posts/:owner', auth(gate), (c) => {
  assertOwner(c.get('auth'), c.req.param('owner')) // 403 ERR_POLICY_OWNER unless sub === :owner
  return c.body(null, 204)
})

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
    server.closeAllConnections?.()
  })
}
