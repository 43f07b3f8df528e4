/**
 * Fastify 5 apps for the HTTP benchmark: `GET /protected` with no auth, with the Gatehouse plugin (as in
 * examples/fastify/server.js; also with `cache: true`, with `offload: true`, with DPoP allowed, and with
 * opaque tokens introspected), with fastify-jwt-jwks, or with the hand-written strict RS256 reference.
 */
import Fastify from 'fastify'
import { ANONYMOUS_SUB, MESSAGE } from '../setups.js'
import { gatehouseOptions } from './options.js'

/** The app; each setup imports only its own plugin. */
export async function createApp(setup, config) {
  const app = Fastify()
  const reply = (sub) => ({ message: MESSAGE, sub })

  switch (setup) {
    case 'none':
      app.get('/protected', async () => reply(ANONYMOUS_SUB))
      break
    case 'gatehouse':
    case 'gatehouse-cache':
    case 'gatehouse-offload':
    case 'gatehouse-dpop':
    case 'gatehouse-opaque': {
      const { gatehouse } = await import('gatehouse/fastify')
      await app.register(gatehouse, gatehouseOptions(config, setup))
      await app.gatehouse.warmUp() // as examples/fastify/server.ts: keys loaded before the first request
      app.get('/protected', async (request) => reply(request.auth.claims.sub))
      break
    }
    case 'fastify-jwt-jwks': {
      const { default: fastifyJwtJwks } = await import('fastify-jwt-jwks')
      // It forbids an `algorithms` option and always allows RS256 and EdDSA (HS256 only with `secret`).
      await app.register(fastifyJwtJwks, {
        jwksUrl: config.jwksUri,
        audience: config.audience,
        issuer: config.issuer,
      })
      app.get('/protected', { preValidation: app.authenticate }, async (request) => reply(request.user.sub))
      break
    }
    case 'strict-rs256': {
      const { loadKeys, verifyToken } = await import('../strict-rs256.js')
      const options = { ...config, keys: await loadKeys(config.jwksUri) }
      app.decorateRequest('claims', null)
      app.addHook('onRequest', async (request, response) => {
        const header = request.headers.authorization
        const claims =
          typeof header === 'string' && header.startsWith('Bearer ')
            ? verifyToken(header.slice(7), options)
            : null
        if (claims === null) return response.code(401).header('www-authenticate', 'Bearer').send()
        request.claims = claims
      })
      app.get('/protected', async (request) => reply(request.claims.sub))
      break
    }
    default:
      throw new Error(`fastify: unknown setup "${setup}"`)
  }
  return app
}

export async function start(setup, config) {
  const app = await createApp(setup, config)
  await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    port: app.server.address().port,
    stop: () => app.close(),
  }
}
