// Express 4 or 5 with Gatehouse. Build (`npm run build` at the repository root), then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 node examples/dist/express/server.js
import type { AddressInfo } from 'node:net'
import express from 'express'
import { createGate, optionsFromEnv } from 'gatehouse'
import { authenticate, authOf, errorHandler, requireScopes } from 'gatehouse/express'

const gate = createGate(optionsFromEnv()) // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
await gate.warmUp() // a wrong issuer or key set stops the start here, not at the first request

const app = express()
app.get('/public', (_req, res) => {
  res.json({ message: 'This is a public message!' })
})
app.get('/protected', authenticate(gate), (req, res) => {
  res.json({ message: 'This is a protected message!', sub: authOf(req).claims.sub })
})
app.get('/api/private-scoped', authenticate(gate), requireScopes('read:messages'), (_req, res) => {
  res.json({ message: 'You have read:messages.' })
})
app.use(errorHandler()) // renders the GatehouseErrors that handlers throw (assertOwner…)

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', (error) => {
  if (error) throw error // the port is taken, or the address wrong
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
