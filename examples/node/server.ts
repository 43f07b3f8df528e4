// node:http with Gatehouse. Build (`npm run build` at the repository root), then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 node examples/dist/node/server.js
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createGate, optionsFromEnv } from 'gatehouse'
import { authenticate } from 'gatehouse/node'

const gate = createGate(optionsFromEnv()) // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
await gate.warmUp() // a wrong issuer or key set stops the start here, not at the first request

const server = createServer(async (req, res) => {
  const json = (status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  if (path === '/public') return json(200, { message: 'This is a public message!' })
  if (path === '/protected') {
    // The auth context, or undefined once the 400/401/403/503 has been sent.
    const auth = await authenticate(gate, req, res)
    if (auth) json(200, { message: 'This is a protected message!', sub: auth.claims.sub })
    return
  }
  if (path === '/api/private-scoped') {
    const auth = await authenticate(gate, req, res, { scopes: 'read:messages' })
    if (auth) json(200, { message: 'You have read:messages.' })
    return
  }
  json(404, { error: 'not_found' })
})
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
