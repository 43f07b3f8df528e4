// Fastify 5 with Gatehouse. Build (`npm run build` at the repository root), then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 node examples/dist/fastify/server.js
import Fastify from 'fastify'
import { optionsFromEnv } from 'gatehouse'
import gatehouse, { authOf } from 'gatehouse/fastify'

const app = Fastify()
// Every route needs a valid token unless its config says otherwise.
await app.register(gatehouse, optionsFromEnv()) // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
await app.gatehouse.warmUp() // a wrong issuer or key set stops the start here, not at the first request

app.get('/public', { config: { access: 'public' } }, async () => ({ message: 'This is a public message!' }))
app.get('/protected', async (request) => ({
  message: 'This is a protected message!',
  sub: authOf(request).claims.sub,
}))
app.get('/api/private-scoped', { config: { access: { scopes: 'read:messages' } } }, async () => ({
  message: 'You have read:messages.',
}))

const url = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000) })
console.log(`listening on ${url}`)
