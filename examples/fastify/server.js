// Fastify with Gatehouse: the seeds' endpoints. Run `npm run build` at the repository root first, then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 node examples/fastify/server.js
import Fastify from 'fastify'
import { assertOwner, optionsFromEnv } from 'gatehouse'
import gatehouse from 'gatehouse/fastify'

const app = Fastify()
// Every route needs a valid token unless its config says otherwise (protectAll, the default).
await app.register(gatehouse, optionsFromEnv()) // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
const open = { config: { auth: false } }

app.get('/public', open, async () => ({ message: 'This is a public message!' }))
app.get('/protected', async (request) => ({
  message: 'This is a protected message!',
  sub: request.auth.claims.sub,
}))

app.get('/api/public', open, async () => ({
  message: "Hello from a public endpoint! You don't need to be authenticated to see this.",
}))
app.get('/api/private', async () => ({
  message: 'Hello from a private endpoint! You need to be authenticated to see this.',
}))
app.get('/api/private-scoped', { config: { auth: { scopes: 'read:messages' } } }, async () => ({
  message:
    'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
}))

// Anyone may read; writing needs write:messages. A token that is sent is verified even on GET.
const posts = { config: { auth: { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } } } }
app.get('/api/posts', posts, async (request) =>
  request.auth ? { anonymous: false, sub: request.auth.claims.sub } : { anonymous: true },
)
app.post('/api/posts', posts, async (request, reply) =>
  reply.code(201).send({ created: true, sub: request.auth.claims.sub }),
)

// Only the owner may delete: assertOwner throws a 403 that the plugin's error handler renders.
app.delete('/api/posts/:owner', async (request, reply) => {
  assertOwner(request.auth, request.params.owner)
  return reply.code(204).send()
})

const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
console.log(`fastify example listening on ${url}`)
process.once('SIGTERM', () => app.close().then(() => process.exit(0)))
