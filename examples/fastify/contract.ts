// Every endpoint of the adapter contract (test/contract/README.md) on Fastify, the app that
// test/contract runs: node examples/dist/fastify/contract.js with GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE,
// GATEHOUSE_JWKS_URL and PORT (0: any free port).
import Fastify from 'fastify'
import { type AccessRule, assertOwner, optionsFromEnv } from 'gatehouse'
import gatehouse, { authOf, requireScopes } from 'gatehouse/fastify'

const app = Fastify()
// Every route needs a valid token unless its config says otherwise (protectAll, the default).
await app.register(gatehouse, {
  ...optionsFromEnv(),
  // Why a request was refused, for the server's log: code, status and what was checked. Never the token.
  onRejection: ({ error, method, path }) =>
    console.error(`refused ${method} ${path}: ${error.status} ${error.code}`),
})
await app.gatehouse.warmUp() // a wrong issuer, metadata document or key set stops the start
const open = { config: { access: 'public' as const } }

app.get('/public', open, async () => ({ message: 'This is a public message!' }))
app.get('/protected', async (request) => ({
  message: 'This is a protected message!',
  sub: authOf(request).claims.sub,
}))

app.get('/api/public', open, async () => ({
  message: "Hello from a public endpoint! You don't need to be authenticated to see this.",
}))
// How the token came (bearer or dpop) and, with DPoP, the proof key's thumbprint.
app.get('/api/private', async (request) => ({
  message: 'Hello from a private endpoint! You need to be authenticated to see this.',
  tokenType: authOf(request).tokenType,
  jkt: authOf(request).jkt,
}))
app.get('/api/private-scoped', { config: { access: { scopes: 'read:messages' } } }, async () => ({
  message:
    'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
}))

// Anyone may read; writing needs write:messages. A token that is sent is verified even on GET.
const posts = { config: { access: { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } } } }
app.get('/api/posts', posts, async (request) =>
  request.auth ? { anonymous: false, sub: request.auth.claims.sub } : { anonymous: true },
)
app.post('/api/posts', posts, async (request, reply) =>
  reply.code(201).send({ created: true, sub: authOf(request).claims.sub }),
)

// Only the owner may delete: assertOwner throws a 403 that the plugin renders.
app.delete<{ Params: { owner: string } }>('/api/posts/:owner', async (request, reply) => {
  assertOwner(authOf(request), request.params.owner)
  return reply.code(204).send()
})

// Two levels, both must pass: the route's rule lets anyone GET and needs write:reports to DELETE; the
// preHandler also needs admin.
const reports: AccessRule = { optional: ['GET'], methods: { DELETE: { scopes: 'write:reports' } } }
const admin = { config: { access: reports }, preHandler: requireScopes('admin') }
app.get('/api/reports/admin', admin, async (request) => ({ admin: true, sub: authOf(request).claims.sub }))
app.delete('/api/reports/admin', admin, async (_request, reply) => reply.code(204).send())

const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
console.log(`fastify example listening on ${url}`)
process.once('SIGTERM', () => app.close().then(() => process.exit(0)))
