// The contract app (examples/web/app.ts) on Deno: `npm run build`, then
// GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 deno run -A examples/web/deno.js
import { contractApp } from '../dist/web/app.js'

const { gate, fetch } = contractApp(Deno.env.toObject())
await gate.warmUp() // a wrong issuer, metadata document or key set stops the start

const port = Number(Deno.env.get('PORT') ?? 3000)
const server = Deno.serve({
  hostname: '127.0.0.1',
  port,
  handler: fetch,
  onListen: (address) => console.log(`web example (deno) listening on http://127.0.0.1:${address.port}`),
})
Deno.addSignalListener('SIGTERM', async () => {
  gate.close()
  await server.shutdown()
  Deno.exit(0)
})
