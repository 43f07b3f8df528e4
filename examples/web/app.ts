// Every endpoint of the adapter contract (test/contract/README.md) as one Fetch-API handler. Each runtime's
// entry serves it: contract.ts (Node), bun.js, deno.js, worker.js (workerd, started by workerd.js).
import {
  type AccessRule,
  assertOwner,
  createGate,
  type Gate,
  isGatehouseError,
  optionsFromEnv,
} from 'gatehouse'
import { errorToResponse, resourceMetadataResponse, withAuth } from 'gatehouse/web'

export interface ContractApp {
  /** The gate every route uses: `warmUp()` before serving, `close()` on shutdown. */
  gate: Gate
  /** The handler: Request in, Response out. */
  fetch(request: Request): Promise<Response>
}

/**
 * The contract's routes, configured from `env`'s GATEHOUSE_* variables: `process.env` on Node and Bun,
 * `Deno.env.toObject()` on Deno, the Worker's bindings on workerd.
 */
export function contractApp(env: Record<string, string | undefined>): ContractApp {
  const gate = createGate({
    ...optionsFromEnv(env),
    // Why a request was refused, for the server's log: code, status and what was checked. Never the token.
    onRejection: ({ error, method, path }) =>
      console.error(`refused ${method} ${path}: ${error.status} ${error.code}`),
  })
  const json = (body: unknown, status = 200) => Response.json(body, { status })
  // Anyone may read; writing needs write:messages. A token that is sent is verified even on GET.
  const posts: { rule: AccessRule } = {
    rule: { optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } },
  }

  const routes: Record<string, (request: Request) => Response | Promise<Response>> = {
    'GET /public': () => json({ message: 'This is a public message!' }),
    'GET /protected': withAuth(gate, (_request, auth) =>
      json({ message: 'This is a protected message!', sub: auth?.claims.sub }),
    ),
    'GET /api/public': () =>
      json({ message: "Hello from a public endpoint! You don't need to be authenticated to see this." }),
    // How the token came (bearer or dpop) and, with DPoP, the proof key's thumbprint.
    'GET /api/private': withAuth(gate, (_request, auth) =>
      json({
        message: 'Hello from a private endpoint! You need to be authenticated to see this.',
        tokenType: auth?.tokenType,
        jkt: auth?.jkt,
      }),
    ),
    'GET /api/private-scoped': withAuth(
      gate,
      () =>
        json({
          message:
            'Hello from a private endpoint! You need to be authenticated and have a scope of read:messages to see this.',
        }),
      { rule: { scopes: 'read:messages' } },
    ),
    'GET /api/posts': withAuth(
      gate,
      (_request, auth) => json(auth ? { anonymous: false, sub: auth.claims.sub } : { anonymous: true }),
      posts,
    ),
    'POST /api/posts': withAuth(
      gate,
      (_request, auth) => json({ created: true, sub: auth?.claims.sub }, 201),
      posts,
    ),
    // Only the owner may delete: assertOwner throws a 403, rendered with errorToResponse below.
    'DELETE /api/posts/:owner': withAuth(gate, (request, auth) => {
      const owner = decodeURIComponent(new URL(request.url).pathname.split('/')[3] ?? '')
      if (auth) assertOwner(auth, owner)
      return new Response(null, { status: 204 })
    }),
  }

  async function fetch(request: Request): Promise<Response> {
    // With GATEHOUSE_RESOURCE: the Protected Resource Metadata (RFC 9728), for clients without a token.
    const metadata = resourceMetadataResponse(gate, request)
    if (metadata !== undefined) return metadata
    const { pathname } = new URL(request.url)
    const path = /^\/api\/posts\/[^/]+$/.test(pathname) ? '/api/posts/:owner' : pathname
    const handler = routes[`${request.method} ${path}`]
    if (!handler) return json({ error: 'not_found' }, 404)
    try {
      return await handler(request)
    } catch (error) {
      if (isGatehouseError(error)) return errorToResponse(gate, request, error)
      throw error
    }
  }
  return { gate, fetch }
}
