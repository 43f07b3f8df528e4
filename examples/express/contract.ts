// Every endpoint of the adapter contract (test/contract/README.md) on Express, the app that
// test/contract runs: node examples/dist/express/contract.js with GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE,
// GATEHOUSE_JWKS_URL and PORT (0: any free port).
import type { AddressInfo } from 'node:net'
import express from 'express'
import { assertOwner, createGate, optionsFromEnv } from 'gatehouse'
import {
  authenticate,
  authOf,
  errorHandler,
  protectedResourceMetadata,
  requireScopes,
} from 'gatehouse/express'

const gate = createGate({
  ...optionsFromEnv(),
  // Why a request was refused, for the server's log: code, status and what was checked. Never the token.
  onRejection: ({ error, method, path }) =>
    console.error(`refused ${method} ${path}: ${error.status} ${error.code}`),
})
await gate.warmUp() // a wrong issuer, metadata document or key set stops the start
const authenticated = authenticate(gate) // 401 unless the request carries a valid access token
const app = express()
// With GATEHOUSE_RESOURCE: the Protected Resource Metadata (RFC 9728), at the root, for clients without a token.
app.use(protectedResourceMetadata(gate))

app.get('/public', (_req, res) => {
  res.json({ message: 'This is a public message!' })
})
app.get('/protected', authenticated, (req, res) => {
  res.json({ message: 'This is a protected message!', sub: authOf(req).claims.sub })
})

app.get('/api/public', (_req, res) => {
  res.json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." })
})
// How the token came (bearer or dpop) and, with DPoP, the proof key's thumbprint.
app.get('/api/private', authenticated, (req, res) => {
  const { tokenType, jkt } = authOf(req)
  res.json({
    message: 'Hello from a private endpoint! You need to be authenticated to see this.',
    tokenType,
    jkt,
  })
})
app.get('/api/private-scoped', authenticated, requireScopes('read:messages'), (_req, res) => {
  res.json({
    message:
      'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
  })
})

// Anyone may read; writing needs write:messages. A token that is sent is verified even on GET.
const posts = authenticate(gate, { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } })
app
  .route('/api/posts')
  .all(posts)
  .get((req, res) => {
    res.json(req.auth ? { anonymous: false, sub: req.auth.claims.sub } : { anonymous: true })
  })
  .post((req, res) => {
    res.status(201).json({ created: true, sub: authOf(req).claims.sub })
  })

// Only the owner may delete: assertOwner throws a 403 that errorHandler() renders.
app.delete('/api/posts/:owner', authenticated, (req, res) => {
  assertOwner(authOf(req), req.params.owner as string)
  res.status(204).end()
})

// Two levels, both must pass: the router lets anyone GET and needs write:reports to DELETE; the
// route also needs admin.
const reports = express.Router()
reports.use(authenticate(gate, { optional: ['GET'], methods: { DELETE: { scopes: 'write:reports' } } }))
reports.get('/admin', requireScopes('admin'), (req, res) => {
  res.json({ admin: true, sub: authOf(req).claims.sub })
})
reports.delete('/admin', requireScopes('admin'), (_req, res) => {
  res.status(204).end()
})
app.use('/api/reports', reports)

app.use(errorHandler())

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', (error) => {
  if (error) throw error // the port is taken, or the address wrong
  console.log(`express example listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.once('SIGTERM', () => {
  gate.close()
  server.close(() => process.exit(0))
  server.closeIdleConnections()
})
