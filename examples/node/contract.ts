// Every endpoint of the adapter contract (test/contract/README.md) on node:http, the app that
// test/contract runs: node examples/dist/node/contract.js with GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE,
// GATEHOUSE_JWKS_URL and PORT (0: any free port).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AccessRule, assertOwner, createGate, isGatehouseError, optionsFromEnv } from 'gatehouse'
import { authenticate, sendError, serveResourceMetadata } from 'gatehouse/node'

const gate = createGate({
  ...optionsFromEnv(),
  // Why a request was refused, for the server's log: code, status and what was checked. Never the token.
  onRejection: ({ error, method, path }) =>
    console.error(`refused ${method} ${path}: ${error.status} ${error.code}`),
})
await gate.warmUp() // a wrong issuer, metadata document or key set stops the start

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end()
    return
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body))
}

// Anyone may read; writing needs write:messages. A token that is sent is verified even on GET.
const posts: AccessRule = { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } }

type Route = (req: IncomingMessage, res: ServerResponse, owner: string) => Promise<void>

// `authenticate` resolves with the auth context (null: anonymous allowed), or undefined once it has sent the error.
const routes: Record<string, Route> = {
  'GET /public': async (_req, res) => send(res, 200, { message: 'This is a public message!' }),
  'GET /protected': async (req, res) => {
    const auth = await authenticate(gate, req, res)
    if (auth) send(res, 200, { message: 'This is a protected message!', sub: auth.claims.sub })
  },
  'GET /api/public': async (_req, res) =>
    send(res, 200, {
      message: "Hello from a public endpoint! You don't need to be authenticated to see this.",
    }),
  // How the token came (bearer or dpop) and, with DPoP, the proof key's thumbprint.
  'GET /api/private': async (req, res) => {
    const auth = await authenticate(gate, req, res)
    if (auth) {
      send(res, 200, {
        message: 'Hello from a private endpoint! You need to be authenticated to see this.',
        tokenType: auth.tokenType,
        jkt: auth.jkt,
      })
    }
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
  // With GATEHOUSE_RESOURCE: the Protected Resource Metadata (RFC 9728), for clients without a token.
  if (serveResourceMetadata(gate, req, res)) return
  const { pathname } = new URL(req.url ?? '/', 'http://localhost')
  const owner = /^\/api\/posts\/([^/]+)$/.exec(pathname)?.[1]
  const handler = routes[`${req.method} ${owner === undefined ? pathname : '/api/posts/:owner'}`]
  if (!handler) return send(res, 404, { error: 'not_found' })
  handler(req, res, decodeURIComponent(owner ?? '')).catch((error: unknown) => {
    if (isGatehouseError(error)) return sendError(gate, res, error)
    console.error(error)
    send(res, 500, { error: 'server_error' })
  })
})
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`node example listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.once('SIGTERM', () => {
  gate.close()
  server.close(() => process.exit(0))
  server.closeIdleConnections()
})
