// Hono 4 with Gatehouse, served on Node by @hono/node-server. Build (`npm run build` at the repository
// root), then GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 node examples/dist/hono/server.js
import { serve } from '@hono/node-server'
import { createGate, optionsFromEnv } from 'gatehouse'
import { authenticate, authOf, errorHandler } from 'gatehouse/hono'
import { Hono } from 'hono'

const gate = createGate(optionsFromEnv()) // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
await gate.warmUp() // a wrong issuer or key set stops the start here, not at the first request

const app = new Hono()
app.onError(errorHandler()) // renders the GatehouseErrors that handlers throw (authOf, assertOwner…)
app.get('/public', (c) => c.json({ message: 'This is a public message!' }))
app.get('/protected', authenticate(gate), (c) =>
  c.json({ message: 'This is a protected message!', sub: authOf(c).claims.sub }),
)
app.get('/api/private-scoped', authenticate(gate, { scopes: 'read:messages' }), (c) =>
  c.json({ message: 'You have read:messages.' }),
)

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 3000) }, (info) =>
  console.log(`listening on http://127.0.0.1:${info.port}`),
)
