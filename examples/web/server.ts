// A Fetch-API handler (Request in, Response out) with Gatehouse: the same `fetch` runs on Bun, Deno and
// Workers-style runtimes; here @hono/node-server serves it on Node. Build (`npm run build` at the
// repository root), then GATEHOUSE_ISSUER=… GATEHOUSE_AUDIENCE=… PORT=3000 node examples/dist/web/server.js
import { serve } from '@hono/node-server'
import { createGate, optionsFromEnv } from 'gatehouse'
import { withAuth } from 'gatehouse/web'

const gate = createGate(optionsFromEnv()) // GATEHOUSE_ISSUER, GATEHOUSE_AUDIENCE, GATEHOUSE_JWKS_URL
await gate.warmUp() // a wrong issuer or key set stops the start here, not at the first request

const routes: Record<string, (request: Request) => Response | Promise<Response>> = {
  '/public': () => Response.json({ message: 'This is a public message!' }),
  // withAuth answers 400/401/403/503 itself; the handler gets the verified request.
  '/protected': withAuth(gate, (_request, auth) =>
    Response.json({ message: 'This is a protected message!', sub: auth?.claims.sub }),
  ),
  '/api/private-scoped': withAuth(gate, () => Response.json({ message: 'You have read:messages.' }), {
    rule: { scopes: 'read:messages' },
  }),
}
const fetch = (request: Request) =>
  routes[new URL(request.url).pathname]?.(request) ?? Response.json({ error: 'not_found' }, { status: 404 })

serve({ fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 3000) }, (info) =>
  console.log(`listening on http://127.0.0.1:${info.port}`),
)
