/**
 * gatehouse/node: helpers for plain `node:http` servers (and anything built on `IncomingMessage` /
 * `ServerResponse`). They translate only; every decision is the core's (gate.ts). The same three words
 * as gatehouse/web: `authenticate` one request, `withAuth` a whole handler, `sendError` (here: write it
 * on the response; there: `errorToResponse`); and `serveResourceMetadata` for the gate's Protected
 * Resource Metadata (RFC 9728), which `withAuth` serves before it authenticates.
 *
 * @example
 * ```ts
 * const gate = createGate(optionsFromEnv())
 * createServer(async (req, res) => {
 *   const auth = await authenticate(gate, req, res, { scopes: 'read:messages' })
 *   if (auth === undefined) return // the error response was sent
 *   res.end(JSON.stringify({ sub: auth?.claims.sub }))
 * })
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AccessRule, AuthContext, CompiledRule } from '../core/authz/index.js'
import { type GatehouseError, isGatehouseError } from '../core/errors.js'
import type { Gate } from '../core/http/gate.js'
import type { JWTClaims } from '../core/types.js'
import { headersOf, originOf } from './headers.js'

export { headersOf } from './headers.js'

/**
 * Send a GatehouseError's response (status, `WWW-Authenticate`, JSON body) and end it. The gate's
 * `onRejection` sees the method and path of `res.req`, the request this response answers.
 *
 * @example if (isGatehouseError(error)) return sendError(gate, res, error)
 */
export function sendError(gate: Pick<Gate, 'reject'>, res: ServerResponse, error: GatehouseError): void {
  const req = res.req as IncomingMessage | undefined
  const request =
    req === undefined ? undefined : { method: req.method ?? 'GET', url: req.url, headers: req.headers }
  const { status, headers, body } = gate.reject(error, request)
  const payload = JSON.stringify(body)
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(payload) })
  res.end(payload)
}

/**
 * Answer a request for the gate's Protected Resource Metadata (RFC 9728), and say whether it was one:
 * at `gate.resourceMetadata.path` (the query aside), 200 JSON to GET and HEAD, 204 to a CORS preflight,
 * 405 to other methods. Returns false, having written nothing, for any other request and when the
 * gate has no `resource`. Call it before `authenticate`: a client without a token must be able to
 * read the document (RFC 9728 §3). `withAuth` does.
 *
 * @example if (serveResourceMetadata(gate, req, res)) return
 */
export function serveResourceMetadata(
  gate: Pick<Gate, 'resourceMetadata'>,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const metadata = gate.resourceMetadata
  if (metadata === undefined || !isPath(req.url ?? '/', metadata.path)) return false
  const { status, headers, body } = metadata.respond(req.method ?? 'GET')
  // No Content-Length for an empty body: a HEAD answer must not state 0 (RFC 9110 §8.6).
  res.writeHead(status, body === '' ? headers : { ...headers, 'content-length': Buffer.byteLength(body) })
  res.end(body)
  return true
}

/** Whether `url` (path and query, as received) is `path`. */
const isPath = (url: string, path: string) =>
  url.startsWith(path) && (url.length === path.length || url[path.length] === '?')

/**
 * Check a request under `rule` (default: a valid token). Resolves with the auth context, with `null`
 * when the rule lets this anonymous request through, or with `undefined` after writing the error
 * response (400, 401, 403, 503). Errors of the `principal` hook are the application's: they reject.
 *
 * What it does NOT do: read the body, so form-body tokens (`tokenLocations: ['body']`) are not seen here;
 * parse the body yourself and call `gate.check({ method, headers, url, body }, rule)`.
 */
export async function authenticate<P, C extends JWTClaims>(
  gate: Gate<P, C>,
  req: IncomingMessage,
  res: ServerResponse,
  rule?: AccessRule | CompiledRule,
): Promise<AuthContext<P, C> | null | undefined> {
  try {
    const auth = await gate.check(
      { method: req.method ?? 'GET', headers: headersOf(req), url: req.url, origin: originOf(req) },
      rule,
    )
    // A fresh DPoP nonce for the client's next proof (RFC 9449 §8.2).
    if (auth?.dpopNonce !== undefined && !res.headersSent) res.setHeader('dpop-nonce', auth.dpopNonce)
    return auth
  } catch (error) {
    if (!isGatehouseError(error) || res.headersSent) throw error
    sendError(gate as unknown as Gate, res, error)
    return undefined
  }
}

/** A request handler that receives the auth context (`null` when the rule let an anonymous request through). */
export type NodeHandler<P, C extends JWTClaims> = (
  req: IncomingMessage,
  res: ServerResponse,
  auth: AuthContext<P, C> | null,
) => void | Promise<void>

/** Options of {@link withAuth}. */
export interface WithAuthOptions {
  /** The rule for every request. Default `{}`: a valid token. */
  rule?: AccessRule | CompiledRule
  /**
   * Called with any error that is not a GatehouseError (the principal hook's, the handler's). Default:
   * log it with `console.error` and answer a bare 500 if nothing was sent yet.
   */
  onError?: (error: unknown, req: IncomingMessage, res: ServerResponse) => void
}

function defaultOnError(error: unknown, _req: IncomingMessage, res: ServerResponse): void {
  console.error(error)
  if (res.headersSent) res.destroy()
  else
    res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end('{"error":"server_error"}')
}

/**
 * Wrap a handler: the `node:http` request listener returned authenticates every request under
 * `options.rule`, then calls `handler` with the auth context. GatehouseErrors thrown by the handler
 * (e.g. `assertOwner`) are rendered like the gate's own. A request for the gate's Protected Resource
 * Metadata is answered first, without a token ({@link serveResourceMetadata}).
 *
 * @example createServer(withAuth(gate, (req, res, auth) => res.end(auth?.claims.sub)))
 */
export function withAuth<P, C extends JWTClaims>(
  gate: Gate<P, C>,
  handler: NodeHandler<P, C>,
  options: WithAuthOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const { rule, onError = defaultOnError } = options
  return (req, res) => {
    if (serveResourceMetadata(gate, req, res)) return
    const run = async () => {
      const auth = await authenticate(gate, req, res, rule)
      if (auth !== undefined) await handler(req, res, auth)
    }
    run().catch((error: unknown) => {
      if (isGatehouseError(error) && !res.headersSent) sendError(gate as unknown as Gate, res, error)
      else onError(error, req, res)
    })
  }
}
