/**
 * Web `Request` → `Response` wrapper, for runtimes built on the Fetch API (Bun, Deno, Workers-style,
 * Node's own Request). It translates only; every decision is the gate's. The same three words as
 * gatehouse/node: `authenticate` one request, `withAuth` a whole handler, and `errorToResponse` where
 * node:http has `sendError` (here the answer is a `Response` to return, not a write); and
 * `resourceMetadataResponse` for the gate's Protected Resource Metadata (RFC 9728), which `withAuth`
 * serves before it authenticates.
 */

import type { AccessRule, AuthContext, CompiledRule } from '../core/authz/index.js'
import type { GatehouseError } from '../core/errors.js'
import { isGatehouseError } from '../core/errors.js'
import type { Gate } from '../core/http/gate.js'
import type { ResourceMetadata } from '../core/http/resource-metadata.js'
import type { JWTClaims } from '../core/types.js'

export type WebHandler<P, C extends JWTClaims> = (
  request: Request,
  auth: AuthContext<P, C> | null,
) => Response | Promise<Response>

export interface WithAuthOptions {
  /** The route's rule. Default: a valid token. */
  rule?: AccessRule | CompiledRule
}

/**
 * A GatehouseError as a Web `Response` (status, `WWW-Authenticate`, JSON body), to return from a fetch
 * handler. The gate's `onRejection` sees the method and path of `request`, the request it answers.
 *
 * @example if (isGatehouseError(error)) return errorToResponse(gate, request, error)
 */
export function errorToResponse(
  gate: Pick<Gate, 'reject'>,
  request: Request,
  error: GatehouseError,
): Response {
  const { status, headers, body } = gate.reject(error, {
    method: request.method,
    url: request.url,
    headers: request.headers,
  })
  return new Response(JSON.stringify(body), { status, headers })
}

/**
 * The answer to a request for the gate's Protected Resource Metadata (RFC 9728), or undefined for any
 * other request and when the gate has no `resource`: at `gate.resourceMetadata.path`, 200 JSON to GET
 * and HEAD, 204 to a CORS preflight, 405 to other methods. Ask it before `authenticate`: a client
 * without a token must be able to read the document (RFC 9728 §3). `withAuth` does.
 *
 * @example const metadata = resourceMetadataResponse(gate, request); if (metadata) return metadata
 */
export function resourceMetadataResponse(
  gate: Pick<Gate, 'resourceMetadata'>,
  request: Request,
): Response | undefined {
  const metadata = gate.resourceMetadata
  // The URL is parsed only when it may be the one: withAuth asks for every request.
  if (
    metadata === undefined ||
    !request.url.includes(metadata.path) ||
    new URL(request.url).pathname !== metadata.path
  )
    return undefined
  const { status, headers, body } = metadata.respond(request.method)
  return new Response(body === '' ? null : body, {
    status,
    headers: headLength(request.method, headers, metadata),
  })
}

/**
 * A HEAD answer's headers with GET's `Content-Length`: for a response without a body, Bun and Deno state
 * `Content-Length: 0`, which a HEAD answer must not unless GET's body is empty (RFC 9110 §8.6).
 */
function headLength(
  method: string,
  headers: Record<string, string>,
  metadata: Pick<ResourceMetadata, 'respond'>,
): Record<string, string> {
  if (method !== 'HEAD' || 'content-length' in headers) return headers
  const length = new TextEncoder().encode(metadata.respond('GET').body).byteLength
  return { ...headers, 'content-length': String(length) }
}

/**
 * Check a Request; resolve with the auth context (null when anonymous is allowed) or with the error
 * Response to send. Application errors (principal hook) are rethrown.
 */
export async function authenticate<P, C extends JWTClaims>(
  gate: Gate<P, C>,
  request: Request,
  rule?: AccessRule | CompiledRule,
): Promise<
  { auth: AuthContext<P, C> | null; response?: undefined } | { auth?: undefined; response: Response }
> {
  try {
    const auth = await gate.check(
      { method: request.method, headers: request.headers, url: request.url },
      rule,
    )
    return { auth }
  } catch (error) {
    if (isGatehouseError(error)) {
      return { response: errorToResponse(gate, request, error) }
    }
    throw error
  }
}

/**
 * Wrap a fetch-style handler. A request for the gate's Protected Resource Metadata is answered first,
 * without a token ({@link resourceMetadataResponse}).
 *
 * @example
 * ```ts
 * const gate = createGate(optionsFromEnv())
 * export default { fetch: withAuth(gate, (req, auth) => Response.json({ sub: auth?.claims.sub })) }
 * ```
 */
export function withAuth<P, C extends JWTClaims>(
  gate: Gate<P, C>,
  handler: WebHandler<P, C>,
  options: WithAuthOptions = {},
) {
  return async (request: Request): Promise<Response> => {
    const metadata = resourceMetadataResponse(gate, request)
    if (metadata !== undefined) return metadata
    const result = await authenticate(gate, request, options.rule)
    if (result.response) return result.response
    const response = await handler(request, result.auth)
    const nonce = result.auth?.dpopNonce
    return nonce === undefined ? response : withHeader(response, 'dpop-nonce', nonce)
  }
}

/** The response with one more header; a copy when its headers are immutable (a `fetch` response's). */
function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value)
    return response
  } catch {
    const copy = new Response(response.body, response)
    copy.headers.set(name, value)
    return copy
  }
}
