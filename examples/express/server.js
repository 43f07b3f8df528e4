// Express with Gatehouse: the seeds' endpoints. Run `npm run build` at the repository root first, then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 node examples/express/server.js
import express from 'express'
import { assertOwner, createGate, optionsFromEnv } from 'gatehouse'
import { auth, errorHandler, requireScopes } from 'gatehouse/express'

const gate = createGate(optionsFromEnv()) // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
const requireAuth = auth(gate) // 401 unless the request carries a valid access token
const app = express()

app.get('/public', (_req, res) => res.json({ message: 'This is a public message!' }))
app.get('/protected', requireAuth, (req, res) => {
  res.json({ message: 'This is a protected message!', sub: req.auth.claims.sub })
})

app.get('/api/public', (_req, res) => {
  res.json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." })
})
app.get('/api/private', requireAuth, (_req, res) => {
  res.json({ message: 'Hello from a private endpoint! You need to be authenticated to see this.' })
})
app.get('/api/private-scoped', requireAuth, requireScopes('read:messages'), (_req, res) => {
  res.json({
    message:
      'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
  })
})

// Anyone may read; writing needs write:messages. A token that is sent is verified even on GET.
const posts = auth(gate, { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } })
app
  .route('/api/posts')
  .all(posts)
  .get((req, res) =>
    res.json(req.auth ? { anonymous: false, sub: req.auth.claims.sub } : { anonymous: true }),
  )
  .post((req, res) => res.status(201).json({ created: true, sub: req.auth.claims.sub }))

// Only the owner may delete: assertOwner throws a 403 that errorHandler() renders.
app.delete('/api/posts/:owner', requireAuth, (req, res) => {
  assertOwner(req.auth, req.params.owner)
  res.status(204).end()
})

app.use(errorHandler())

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', (error) => {
  if (error) throw error
  console.log(`express example listening on http://127.0.0.1:${server.address().port}`)
})
process.once('SIGTERM', () => {
  gate.close()
  server.close(() => process.exit(0))
  server.closeIdleConnections()
})
