/**
 * Express 5 apps for the HTTP benchmark: `GET /protected` with no auth, with Gatehouse (as in
 * examples/express/server.js) or with a peer middleware configured for the same policy.
 */
import express from 'express'
import { ANONYMOUS_SUB, MESSAGE } from '../setups.js'
import { gatehouseOptions } from './options.js'

/**
 * The peers report failures through `next(err)` with `err.status` 401. Without this handler Express would
 * answer with an HTML page and log every stack trace to stderr.
 */
function peerErrors(err, _req, res, _next) {
  res
    .status(err.status ?? 500)
    .set(err.headers ?? {})
    .json({ error: err.code ?? 'server_error' })
}

/**
 * Returns the app and a close function for anything the setup keeps running (key caches, timers). Each
 * setup imports only its own middleware, so no server carries another's modules.
 */
export async function createApp(setup, config) {
  const app = express()
  const reply = (res, sub) => res.json({ message: MESSAGE, sub })

  switch (setup) {
    case 'none':
      app.get('/protected', (_req, res) => reply(res, ANONYMOUS_SUB))
      return { app, close() {} }
    case 'gatehouse':
    case 'gatehouse-cache':
    case 'gatehouse-dpop':
    case 'gatehouse-opaque': {
      const { createGate } = await import('gatehouse')
      const { authenticate, errorHandler } = await import('gatehouse/express')
      const gate = createGate(gatehouseOptions(config, setup))
      await gate.warmUp() // as examples/express/server.ts: keys loaded before the first request
      app.get('/protected', authenticate(gate), (req, res) => reply(res, req.auth.claims.sub))
      app.use(errorHandler())
      return { app, close: () => gate.close() }
    }
    case 'express-oauth2-jwt-bearer': {
      // issuer + jwksUri: no discovery request. jose's remote JWK Set underneath, http allowed.
      const { auth: oauth2JwtBearer } = await import('express-oauth2-jwt-bearer')
      const middleware = oauth2JwtBearer({
        issuer: config.issuer,
        jwksUri: config.jwksUri,
        audience: config.audience,
        tokenSigningAlg: 'RS256',
      })
      app.get('/protected', middleware, (req, res) => reply(res, req.auth.payload.sub))
      app.use(peerErrors)
      return { app, close() {} }
    }
    case 'express-jwt': {
      const { expressjwt } = await import('express-jwt')
      const { default: jwksRsa } = await import('jwks-rsa')
      const middleware = expressjwt({
        secret: jwksRsa.expressJwtSecret({ jwksUri: config.jwksUri, cache: true }),
        algorithms: ['RS256'],
        issuer: config.issuer,
        audience: config.audience,
      })
      app.get('/protected', middleware, (req, res) => reply(res, req.auth.sub))
      app.use(peerErrors)
      return { app, close() {} }
    }
    default:
      throw new Error(`express: unknown setup "${setup}"`)
  }
}

export async function start(setup, config) {
  const { app, close } = await createApp(setup, config)
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (error) => (error ? reject(error) : resolve(s)))
  })
  return {
    port: server.address().port,
    async stop() {
      close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
