// The contract app (app.ts) on Node, the app that test/contract runs: node examples/dist/web/contract.js
// with GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL and PORT (0: any free port).
// @hono/node-server serves it; bun.js, deno.js and worker.js serve the same handler on their runtimes.
import { serve } from '@hono/node-server'
import { contractApp } from './app.js'

const { gate, fetch } = contractApp(process.env)
await gate.warmUp() // a wrong issuer, metadata document or key set stops the start

const server = serve({ fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 3000) }, (info) => {
  console.log(`web example listening on http://127.0.0.1:${info.port}`)
})
process.once('SIGTERM', () => {
  gate.close()
  server.close(() => process.exit(0))
})
