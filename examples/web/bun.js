// The contract app (examples/web/app.ts) on Bun: `npm run build`, then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 bun examples/web/bun.js
import { contractApp } from '../dist/web/app.js'

const { gate, fetch } = contractApp(Bun.env)
await gate.warmUp() // a wrong issuer, metadata document or key set stops the start

const server = Bun.serve({ fetch, hostname: '127.0.0.1', port: Number(Bun.env.PORT ?? 3000) })
console.log(`web example (bun) listening on http://127.0.0.1:${server.port}`)
process.once('SIGTERM', async () => {
  gate.close()
  await server.stop()
  process.exit(0)
})
