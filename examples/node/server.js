// node:http with Gatehouse: the seeds' endpoints. Run `npm run build` at the repository root first, then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 node examples/node/server.js
import { createServer } from 'node:http'
import { assertOwner, createGate, isGatehouseError, optionsFromEnv } from 'gatehouse'
import { authenticate, sendError } from 'gatehouse/node'

const gate = createGate(optionsFromEnv()) // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL

function send(res, status, body) {
  if (body === undefined) return res.writeHead(status).end()
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body))
}

// Anyone may read; writing needs write:messages. A token that is sent is verified even on GET.
const posts = { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } }

// `authenticate` resolves with the auth context (null: anonymous allowed), or undefined once it has sent the error.
const routes = {
  'GET /public': async (_req, res) => send(res, 200, { message: 'This is a public message!' }),
  'GET /protected': async (req, res) => {
    const auth = await authenticate(gate, req, res)
    if (auth) send(res, 200, { message: 'This is a protected message!', sub: auth.claims.sub })
  },
  'GET /api/public': async (_req, res) =>
    send(res, 200, {
      message: "Hello from a public endpoint! You don't need to be authenticated to see this.",
    }),
  'GET /api/private': async (req, res) => {
    const auth = await authenticate(gate, req, res)
    if (auth)
      send(res, 200, { message: 'Hello from a private endpoint! You need to be authenticated to see this.' })
  },
  'GET /api/private-scoped': async (req, res) => {
    const auth = await authenticate(gate, req, res, { scopes: 'read:messages' })
    if (auth) {
      send(res, 200, {
        message:
          'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
      })
    }
  },
  'GET /api/posts': async (req, res) => {
    const auth = await authenticate(gate, req, res, posts)
    if (auth !== undefined)
      send(res, 200, auth ? { anonymous: false, sub: auth.claims.sub } : { anonymous: true })
  },
  'POST /api/posts': async (req, res) => {
    const auth = await authenticate(gate, req, res, posts)
    if (auth) send(res, 201, { created: true, sub: auth.claims.sub })
  },
  // Only the owner may delete: assertOwner throws a 403, rendered below with sendError.
  'DELETE /api/posts/:owner': async (req, res, owner) => {
    const auth = await authenticate(gate, req, res)
    if (!auth) return
    assertOwner(auth, owner)
    send(res, 204)
  },
}

const server = createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://localhost')
  const owner = /^\/api\/posts\/([^/]+)$/.exec(pathname)
  const handler = routes[`${req.method} ${owner ? '/api/posts/:owner' : pathname}`]
  if (!handler) return send(res, 404, { error: 'not_found' })
  handler(req, res, owner && decodeURIComponent(owner[1])).catch((error) => {
    if (isGatehouseError(error)) return sendError(gate, res, error)
    console.error(error)
    send(res, 500, { error: 'server_error' })
  })
})
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`node example listening on http://127.0.0.1:${server.address().port}`)
})
process.once('SIGTERM', () => {
  gate.close()
  server.close(() => process.exit(0))
  server.closeIdleConnections()
})
