// A Fetch-API handler (Request in, Response out) with Gatehouse: the seeds' endpoints. The same `fetch`
// runs on Bun, Deno and Workers-style runtimes; here @hono/node-server serves it on Node.
// Run `npm run build` at the repository root first, then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 node examples/web/server.js
import { serve } from '@hono/node-server'
import {
  assertOwner,
  createGate,
  errorToResponse,
  isGatehouseError,
  optionsFromEnv,
  withAuth,
} from 'gatehouse'

const gate = createGate(optionsFromEnv()) // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
const json = (body, status = 200) => Response.json(body, { status })
// Anyone may read; writing needs write:messages. A token that is sent is verified even on GET.
const posts = { rule: { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } } }

const routes = {
  'GET /public': () => json({ message: 'This is a public message!' }),
  'GET /protected': withAuth(gate, (_request, auth) =>
    json({ message: 'This is a protected message!', sub: auth.claims.sub }),
  ),
  'GET /api/public': () =>
    json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." }),
  'GET /api/private': withAuth(gate, () =>
    json({ message: 'Hello from a private endpoint! You need to be authenticated to see this.' }),
  ),
  'GET /api/private-scoped': withAuth(
    gate,
    () =>
      json({
        message:
          'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
      }),
    { rule: { scopes: 'read:messages' } },
  ),
  'GET /api/posts': withAuth(
    gate,
    (_request, auth) => json(auth ? { anonymous: false, sub: auth.claims.sub } : { anonymous: true }),
    posts,
  ),
  'POST /api/posts': withAuth(
    gate,
    (_request, auth) => json({ created: true, sub: auth.claims.sub }, 201),
    posts,
  ),
  // Only the owner may delete: assertOwner throws a 403, rendered with errorToResponse below.
  'DELETE /api/posts/:owner': withAuth(gate, (request, auth) => {
    assertOwner(auth, decodeURIComponent(new URL(request.url).pathname.split('/')[3]))
    return new Response(null, { status: 204 })
  }),
}

async function fetch(request) {
  const { pathname } = new URL(request.url)
  const path = /^\/api\/posts\/[^/]+$/.test(pathname) ? '/api/posts/:owner' : pathname
  const handler = routes[`${request.method} ${path}`]
  if (!handler) return json({ error: 'not_found' }, 404)
  try {
    return await handler(request)
  } catch (error) {
    if (isGatehouseError(error)) return errorToResponse(gate, error)
    throw error
  }
}

const server = serve({ fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 3000) }, (info) => {
  console.log(`web example listening on http://127.0.0.1:${info.port}`)
})
process.once('SIGTERM', () => {
  gate.close()
  server.close(() => process.exit(0))
})
