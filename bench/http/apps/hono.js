/**
 * Hono 4 apps on @hono/node-server for the HTTP benchmark: `GET /protected` with no auth, with Gatehouse
 * (as in examples/hono/server.js) or with hono's own `jwk` middleware.
 */
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { ANONYMOUS_SUB, MESSAGE } from '../setups.js'
import { gatehouseOptions } from './options.js'

/** Returns the app and a close function; each setup imports only its own middleware. */
export async function createApp(setup, config) {
  const app = new Hono()
  const reply = (c, sub) => c.json({ message: MESSAGE, sub })

  switch (setup) {
    case 'none':
      app.get('/protected', (c) => reply(c, ANONYMOUS_SUB))
      return { app, close() {} }
    case 'gatehouse':
    case 'gatehouse-cache':
    case 'gatehouse-dpop':
    case 'gatehouse-opaque': {
      const { createGate } = await import('gatehouse')
      const { authenticate } = await import('gatehouse/hono')
      const gate = createGate(gatehouseOptions(config, setup))
      await gate.warmUp() // as examples/hono/server.ts: keys loaded before the first request
      app.get('/protected', authenticate(gate), (c) => reply(c, c.get('auth').claims.sub))
      return { app, close: () => gate.close() }
    }
    case 'hono-jwk': {
      const { jwk } = await import('hono/jwk')
      // `jwks_uri` is fetched on every request (hono keeps no key cache). Its header check rejects any
      // `typ` but JWT unless `verification.typ` names it; the benchmark's tokens are RFC 9068 `at+jwt`.
      const middleware = jwk({
        jwks_uri: config.jwksUri,
        alg: ['RS256'],
        verification: { iss: config.issuer, aud: config.audience, typ: 'at+jwt' },
      })
      app.get('/protected', middleware, (c) => reply(c, c.get('jwtPayload').sub))
      return { app, close() {} }
    }
    default:
      throw new Error(`hono: unknown setup "${setup}"`)
  }
}

export async function start(setup, config) {
  const { app, close } = await createApp(setup, config)
  const server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
  })
  return {
    port: server.address().port,
    async stop() {
      close()
      server.closeAllConnections?.()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
