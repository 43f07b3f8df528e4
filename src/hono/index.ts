/**
 * Hono 4 middleware. It translates only: the request's method, headers and URL go to the gate, and a
 * GatehouseError comes back as the gate's response (status, `WWW-Authenticate`, JSON body). Every
 * decision is the gate's (src/core/http/gate.ts).
 *
 * What it does NOT do: read a token from a form body (Hono parses bodies lazily and asynchronously; a
 * gate with `tokenLocations: ['body']` finds none here), or catch the application's own errors (the
 * principal hook's errors reach `app.onError` unchanged).
 *
 * Words, as in every adapter: `authenticate()` runs the gate and sets `c.get('auth')` (the verified
 * request); `authorize(rule)` and `require*()` enforce more where they are mounted; `authOf(c)` reads it;
 * `protectedResourceMetadata(gate)` serves the gate's Protected Resource Metadata (RFC 9728).
 */
import type { Context, ErrorHandler, MiddlewareHandler } from 'hono'
import type { AccessRule, AuthContext, CompiledRule, Match } from '../core/authz/index.js'
import { requireHelpers } from '../core/authz/require-helpers.js'
import { GatehouseError, isGatehouseError } from '../core/errors.js'
import { errorResponse } from '../core/http/challenge.js'
import { createGate, type Gate, type GateOptions, isGate, toCompiledRule } from '../core/http/gate.js'
import type { JWTClaims } from '../core/types.js'
import { PENDING, type Pending } from '../core/verify/verifier.js'
import { headersOf } from '../node/headers.js'

/** The context variables `authenticate()` sets. */
export interface GatehouseVariables<P = unknown, C extends JWTClaims = JWTClaims> {
  /** The verified request, or `null` when the rule let an anonymous request through. */
  auth: AuthContext<P, C> | null
  /** The gate that checked the request, for `authorize()`, `require*()` and `errorHandler()`. */
  gatehouse: Gate<P, C>
}

/** Hono `Env` for apps that want the principal and claims typed: `new Hono<GatehouseEnv<User>>()`. */
export interface GatehouseEnv<P = unknown, C extends JWTClaims = JWTClaims> {
  Variables: GatehouseVariables<P, C>
}

declare module 'hono' {
  // Typed `c.get('auth')` in every handler once `gatehouse/hono` is imported (default claims and principal).
  interface ContextVariableMap {
    auth: AuthContext | null
    gatehouse: Gate
  }
}

/** The middleware `authenticate()` returns, with its gate (close it on shutdown when the middleware built it). */
export type AuthenticateMiddleware<P, C extends JWTClaims> = MiddlewareHandler<GatehouseEnv<P, C>> & {
  readonly gate: Gate<P, C>
}

/** Options of {@link errorHandler}. */
export interface ErrorHandlerOptions {
  /** The gate for requests `authenticate()` did not run for. Default: none (no `realm`, no report). */
  gate?: Pick<Gate, 'reject'>
  /**
   * Handles every error that is not a GatehouseError. Default: what Hono does (an HTTPException's own
   * response, else a logged 500).
   */
  fallback?: ErrorHandler
}

// The gate builds status, headers and body (and reports the refusal to its `onRejection`); Hono only sends them.
function render(c: Context, gate: Pick<Gate, 'reject'>, error: GatehouseError): Response {
  const { status, headers, body } = gate.reject(error, {
    method: c.req.method,
    url: c.req.url,
    headers: c.req.raw.headers,
  })
  return c.body(JSON.stringify(body), status, headers)
}

/**
 * The gate's Protected Resource Metadata when the request asks for it (its path), else undefined. An
 * empty body is sent as none; a HEAD answer must state GET's `Content-Length` or none (RFC 9110 §8.6).
 */
function metadataResponse(c: Context, gate: Pick<Gate, 'resourceMetadata'>): Response | undefined {
  const metadata = gate.resourceMetadata
  if (metadata === undefined || c.req.path !== metadata.path) return undefined
  const { method } = c.req
  const { status, headers, body } = metadata.respond(method)
  if (body !== '') return c.body(body, status as 200, headers)
  // A HEAD answer states GET's length: for a response without a body, Bun and Deno state 0.
  if (method !== 'HEAD' || 'content-length' in headers) return c.body(null, status, headers)
  const length = new TextEncoder().encode(metadata.respond('GET').body).byteLength
  return c.body(null, status, { ...headers, 'content-length': String(length) })
}

/**
 * On @hono/node-server the Node request is at `c.env.incoming`: its header record costs nothing, while
 * `c.req.raw.headers` builds a `Headers` object per request (about 4.5 µs, measured by bench:http).
 * Elsewhere (Bun, Deno, Workers) the Fetch `Headers` are the request's own.
 */
function headersFor(c: Context) {
  const incoming = (c.env as { incoming?: { headers?: unknown; rawHeaders?: unknown } } | undefined)?.incoming
  if (incoming && typeof incoming.headers === 'object' && Array.isArray(incoming.rawHeaders)) {
    return headersOf(incoming as Parameters<typeof headersOf>[0])
  }
  return c.req.raw.headers
}

/**
 * Verify the bearer token and authorize the request under `rule` (default: any valid token), then set
 * `c.get('auth')`. A GatehouseError becomes the gate's 400/401/403/503 response; anything else is thrown
 * to `app.onError`.
 *
 * @param gateOrOptions a gate from `createGate()` (shared, closed by you), or its options (a gate is built once)
 * @param rule the access rule for the routes behind this middleware, validated here (a bad rule throws a TypeError)
 * @example
 * ```ts
 * const app = new Hono()
 * app.use('/api/*', authenticate(createGate(optionsFromEnv())))
 * app.get('/api/private', (c) => c.json({ sub: authOf(c).claims.sub }))
 * ```
 */
export function authenticate<P = unknown, C extends JWTClaims = JWTClaims>(
  gateOrOptions: Gate<P, C> | GateOptions<P, C>,
  rule?: AccessRule | CompiledRule,
): AuthenticateMiddleware<P, C> {
  const gate = isGate(gateOrOptions) ? gateOrOptions : createGate(gateOrOptions)
  const compiled = toCompiledRule(rule)
  const middleware: MiddlewareHandler<GatehouseEnv<P, C>> = async (c, next) => {
    // Where it sees the metadata's path (`app.use('*', …)`), it serves the document: the one thing a
    // client without a token must be able to read (RFC 9728 §3).
    const metadata = metadataResponse(c, gate)
    if (metadata !== undefined) return metadata
    let result: AuthContext<P, C> | null | Pending
    const input = { method: c.req.method, headers: headersFor(c), url: c.req.url }
    try {
      // Without waiting when nothing needs waiting for (a cached token, a loaded key), as the other adapters.
      result = gate.checkSync(input, compiled)
      if (result === PENDING) result = await gate.check(input, compiled)
    } catch (error) {
      if (isGatehouseError(error)) return render(c, gate, error)
      throw error
    }
    c.set('auth', result)
    c.set('gatehouse', gate)
    await next()
    // A fresh DPoP nonce for the client's next proof (RFC 9449 §8.2).
    if (result?.dpopNonce !== undefined) c.header('DPoP-Nonce', result.dpopNonce)
  }
  return Object.assign(middleware, { gate })
}

/**
 * Serve the gate's Protected Resource Metadata (RFC 9728) at `gate.resourceMetadata.path`, the
 * well-known path of its `resource` (`/.well-known/oauth-protected-resource/mcp` for
 * `https://api.example.com/mcp`): 200 JSON to GET and HEAD, 204 to a CORS preflight, 405 to other
 * methods. Every other request goes on to `next()`, as does every request when the gate has no
 * `resource`. Mount it for every path (the document is at the root of the host, wherever the API is);
 * `authenticate()` serves it too, where it sees the path.
 *
 * @example app.use(protectedResourceMetadata(gate)) // before app.use('/api/*', authenticate(gate))
 */
export function protectedResourceMetadata(gate: Pick<Gate, 'resourceMetadata'>): MiddlewareHandler {
  return async (c, next) => {
    const metadata = metadataResponse(c, gate)
    if (metadata !== undefined) return metadata
    await next()
  }
}

/**
 * Authorize an authenticated request under another rule, after `authenticate()` (e.g. `authenticate()`
 * on `/api/*` with optional access, then `authorize({ scopes: 'write:messages' })` on one route); both
 * must pass. Without `authenticate()` before it, it throws an Error (a wiring mistake must not pass
 * silently).
 *
 * @example app.delete('/api/posts/:id', authorize({ roles: { any: ['admin', 'editor'] } }), handler)
 */
export function authorize(rule: AccessRule | CompiledRule): MiddlewareHandler {
  const compiled = toCompiledRule(rule)
  return async (c, next) => {
    const gate = c.get('gatehouse')
    if (gate === undefined)
      throw new Error('gatehouse/hono: authenticate() must run before authorize() and require*()')
    try {
      gate.authorize(c.get('auth'), c.req.method, compiled)
    } catch (error) {
      if (isGatehouseError(error)) return render(c, gate, error)
      throw error
    }
    await next()
  }
}

const helpers = requireHelpers(authorize)
/** `authorize({ scopes: match })`: 403 `insufficient_scope` with `scope="…"`. @example requireScopes('read:messages') */
export const requireScopes: (match: Match) => MiddlewareHandler = helpers.requireScopes
/** `authorize({ roles: match })`: 403 `ERR_POLICY_ROLE`. @example requireRoles({ any: ['admin', 'editor'] }) */
export const requireRoles: (match: Match) => MiddlewareHandler = helpers.requireRoles
/** `authorize({ permissions: match })`: 403 `ERR_POLICY_PERMISSION`. @example requirePermissions(['read:users', 'write:users']) */
export const requirePermissions: (match: Match) => MiddlewareHandler = helpers.requirePermissions
/** `authorize({ groups: match })`: 403 `ERR_POLICY_GROUP`. @example requireGroups('staff') */
export const requireGroups: (match: Match) => MiddlewareHandler = helpers.requireGroups

/** Renders without a gate: the core's response, no `realm`, no report. */
const NO_GATE: Pick<Gate, 'reject'> = { reject: (error) => errorResponse(error) }

/**
 * An `app.onError` handler for GatehouseErrors that handlers throw (`assertOwner`, a check of their own):
 * rendered as the gate's response, with the gate `authenticate()` stored for the request, else with
 * `options.gate`, else the core's response without `realm`. Other errors go to `options.fallback`, by
 * default what Hono does: an HTTPException's own response, else a logged 500.
 *
 * @example app.onError(errorHandler())
 */
export function errorHandler(options: ErrorHandlerOptions = {}): ErrorHandler {
  const { gate = NO_GATE, fallback } = options
  return (error, c) => {
    if (isGatehouseError(error)) return render(c, c.get('gatehouse') ?? gate, error)
    if (fallback !== undefined) return fallback(error, c)
    if ('getResponse' in error && typeof error.getResponse === 'function')
      return error.getResponse() as Response
    console.error(error)
    return c.text('Internal Server Error', 500)
  }
}

/**
 * `c.get('auth')` with your principal and claim types, for handlers behind `authenticate()`, never null:
 * throws `ERR_NO_TOKEN` (401) for an anonymous request (rendered by {@link errorHandler}), as `authOf` of
 * gatehouse/express and gatehouse/fastify.
 *
 * @example app.get('/api/me', authenticate(gate), (c) => c.json({ sub: authOf<User>(c).claims.sub }))
 * @throws Error when `authenticate()` did not run on this route (a wiring mistake, not the client's).
 */
export function authOf<P = unknown, C extends JWTClaims = JWTClaims>(c: Context): AuthContext<P, C> {
  const auth = c.get('auth') as AuthContext<P, C> | null | undefined
  if (auth === undefined) throw new Error('gatehouse/hono: authOf() on a route without authenticate()')
  if (auth === null) throw new GatehouseError('ERR_NO_TOKEN')
  return auth
}
