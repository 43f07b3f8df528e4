/**
 * gatehouse/express: middleware for Express 4 and 5. It translates an Express request into the gate's
 * input and the gate's GatehouseErrors into RFC 6750 responses; every decision is the core's (gate.ts).
 *
 * Express 4 does not catch rejected promises, so every middleware here settles its own promise and
 * reports through `next`, which works the same on both versions.
 *
 * Words, as in every adapter: `authenticate()` runs the gate and sets `req.auth` (the verified request);
 * `authorize(rule)` and `require*()` enforce more where they are mounted; `authOf(req)` reads `req.auth`;
 * `protectedResourceMetadata(gate)` serves the gate's Protected Resource Metadata (RFC 9728).
 *
 * @example
 * ```ts
 * const gate = createGate(optionsFromEnv())
 * app.get('/api/private-scoped', authenticate(gate), requireScopes('read:messages'), (req, res) => res.json({ sub: authOf(req).claims.sub }))
 * app.use(errorHandler())
 * ```
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express'
import type { AccessRule, AuthContext, CompiledRule, Match } from '../core/authz/index.js'
import { requireHelpers } from '../core/authz/require-helpers.js'
import { GatehouseError, isGatehouseError } from '../core/errors.js'
import { type ErrorResponse, errorResponse } from '../core/http/challenge.js'
import { createGate, type Gate, type GateOptions, isGate, toCompiledRule } from '../core/http/gate.js'
import type { JWTClaims } from '../core/types.js'
import { PENDING, type Pending } from '../core/verify/verifier.js'
import { headersOf, originOf } from '../node/headers.js'

declare global {
  namespace Express {
    interface Request {
      /**
       * Set by `authenticate()`: the verified request, or `null` when its rule let an anonymous request
       * through. `undefined` on routes that `authenticate()` did not run for. In a handler behind
       * `authenticate()`, `authOf(req)` gives it typed and never null (it throws the 401 for an anonymous
       * request).
       */
      auth?: AuthContext | null
    }
  }
}

/** Options of {@link authenticate}'s middleware (also accepted beside the gate's options). */
export interface AuthenticateOptions {
  /**
   * Hand GatehouseErrors to `next(err)` instead of answering, for apps with their own error handler
   * (render them with {@link errorHandler} or `gate.reject(err, request)`). Default false.
   */
  passErrors?: boolean
}

/** The middleware `authenticate()` returns; `gate` is exposed so the app can close it on shutdown. */
export interface AuthenticateMiddleware<P = unknown, C extends JWTClaims = JWTClaims> extends RequestHandler {
  readonly gate: Gate<P, C>
}

/** Options of {@link errorHandler}. */
export interface ErrorHandlerOptions {
  /** The gate for requests `authenticate()` did not run for. Default: none (no `realm`, no report). */
  gate?: Pick<Gate, 'reject'>
}

interface Mounted {
  gate: Gate<unknown, JWTClaims>
  passErrors: boolean
}

/** Where `authenticate()` leaves its gate for `authorize()`, `require*()` and the error handler. */
const MOUNTED = Symbol('gatehouse')
const mountedOf = (req: Request) => (req as unknown as Record<symbol, Mounted | undefined>)[MOUNTED]

function send(res: Response, { status, headers, body }: ErrorResponse): void {
  res.status(status).set(headers).send(JSON.stringify(body))
}

/**
 * Answer the request with the gate's Protected Resource Metadata when it asks for it (its path, query
 * aside), and say whether it did. An empty body is not sent at all: Express would state `Content-Length:
 * 0`, which a HEAD response must not (RFC 9110 §8.6).
 */
function answerMetadata(gate: Pick<Gate, 'resourceMetadata'>, req: Request, res: Response): boolean {
  const metadata = gate.resourceMetadata
  if (metadata === undefined || !isPath(req.originalUrl, metadata.path)) return false
  const { status, headers, body } = metadata.respond(req.method)
  res.status(status).set(headers)
  if (body === '') res.end()
  else res.send(body)
  return true
}

/** Whether `url` (path and query, as received) is `path`. */
const isPath = (url: string, path: string) =>
  url.startsWith(path) && (url.length === path.length || url[path.length] === '?')

/** The request as the gate's `onRejection` sees it: method and URL (the gate keeps only the path). */
const rejected = (req: Request) => ({ method: req.method, url: req.originalUrl, headers: req.headers })

/** Render a GatehouseError, or pass it on (`passErrors`, response already started) or any other error. */
function fail(req: Request, res: Response, next: NextFunction, error: unknown): void {
  const mounted = mountedOf(req)
  if (!isGatehouseError(error) || mounted?.passErrors || res.headersSent) next(error)
  else send(res, mounted ? mounted.gate.reject(error, rejected(req)) : errorResponse(error))
}

/**
 * Verify the request's bearer token and authorize it under `rule` (default: any valid token), then set
 * `req.auth`. On an `optional` method a request without a token gets `req.auth` `null`, and a token that
 * is sent is verified; on a `'public'` method the token is not read (`null`).
 *
 * Errors: GatehouseErrors (400, 401, 403, 503) are answered with `WWW-Authenticate` and a JSON body,
 * or passed to `next(err)` with `passErrors: true`. Errors thrown by the `principal` hook are the
 * application's and always go to `next(err)`.
 *
 * @param source a gate from `createGate()` (shared by several middlewares: one key cache; closed by you),
 *   or the options to build one
 * @param rule the rule of the routes behind this middleware, validated here (a bad rule is a TypeError)
 * @example app.use('/api', authenticate(gate, { optional: ['GET'] }))
 */
export function authenticate<P = unknown, C extends JWTClaims = JWTClaims>(
  source: Gate<P, C> | (GateOptions<P, C> & AuthenticateOptions),
  rule?: AccessRule | CompiledRule,
  options: AuthenticateOptions = {},
): AuthenticateMiddleware<P, C> {
  let gate: Gate<P, C>
  let passErrors = options.passErrors
  if (isGate(source)) {
    gate = source
  } else {
    const { passErrors: fromSource, ...gateOptions } = source
    gate = createGate<P, C>(gateOptions)
    passErrors ??= fromSource
  }
  // Compiled now, so a wrong rule is a TypeError at start-up rather than on the first request.
  const compiled = toCompiledRule(rule)
  const mounted: Mounted = {
    gate: gate as unknown as Gate<unknown, JWTClaims>,
    passErrors: passErrors === true,
  }

  const middleware = (req: Request, res: Response, next: NextFunction): void => {
    // Where it sees the metadata's path (mounted at the root), it serves the document: the one thing a
    // client without a token must be able to read (RFC 9728 §3).
    if (answerMetadata(mounted.gate, req, res)) return
    ;(req as unknown as Record<symbol, Mounted>)[MOUNTED] = mounted
    const input = {
      method: req.method,
      headers: headersOf(req),
      url: req.originalUrl,
      // As the socket received it: proxy headers only through the gate's own options (publicUrl, trustForwardedHeaders).
      origin: originOf(req),
      body: req.body,
    }
    // Without waiting when nothing needs waiting for (a cached token, a loaded key): the request goes on
    // in the same tick, with no promise per request (measured by bench:http).
    let now: AuthContext | null | Pending
    try {
      now = gate.checkSync(input, compiled) as AuthContext | null | Pending
    } catch (error) {
      fail(req, res, next, error)
      return
    }
    if (now !== PENDING) {
      req.auth = now
      if (now?.dpopNonce !== undefined) res.setHeader('dpop-nonce', now.dpopNonce)
      next()
      return
    }
    gate.check(input, compiled).then(
      (result) => {
        req.auth = result as AuthContext | null
        if (result?.dpopNonce !== undefined) res.setHeader('dpop-nonce', result.dpopNonce)
        next()
      },
      (error: unknown) => fail(req, res, next, error),
    )
  }
  return Object.assign(middleware, { gate })
}

/**
 * Serve the gate's Protected Resource Metadata (RFC 9728) at `gate.resourceMetadata.path`, the
 * well-known path of its `resource` (`/.well-known/oauth-protected-resource/mcp` for
 * `https://api.example.com/mcp`): 200 JSON to GET and HEAD, 204 to a CORS preflight, 405 to other
 * methods. Every other request goes on to `next()`, as does every request when the gate has no
 * `resource`. Mount it at the root of the app: the path is at the root of the host, wherever the
 * API is (`authenticate()` serves it too, where it sees the path).
 *
 * @example app.use(protectedResourceMetadata(gate)) // before app.use('/api', authenticate(gate))
 */
export function protectedResourceMetadata(gate: Pick<Gate, 'resourceMetadata'>): RequestHandler {
  return (req, res, next) => {
    if (!answerMetadata(gate, req, res)) next()
  }
}

/**
 * Authorize the request under another rule, after `authenticate()` ran on it (route-level and per-method
 * rules); both must pass. Without `authenticate()` before it: `next(Error)` (a wiring mistake is not a 401).
 *
 * @example app.route('/posts').all(authenticate(gate), authorize({ methods: { POST: { scopes: 'write:messages' } } }))
 */
export function authorize(rule: AccessRule | CompiledRule): RequestHandler {
  const compiled = toCompiledRule(rule)
  return (req, res, next) => {
    const mounted = mountedOf(req)
    if (mounted === undefined || req.auth === undefined) {
      return next(
        new Error(
          'gatehouse: authorize() or require*() ran before authenticate(); mount authenticate() first on this route',
        ),
      )
    }
    try {
      mounted.gate.authorize(req.auth, req.method, compiled)
    } catch (error) {
      return fail(req, res, next, error)
    }
    next()
  }
}

const helpers = requireHelpers(authorize)
/** `authorize({ scopes: match })`: 403 `insufficient_scope` with `scope="…"`. @example requireScopes('read:messages') */
export const requireScopes: (match: Match) => RequestHandler = helpers.requireScopes
/** `authorize({ roles: match })`: 403 `ERR_POLICY_ROLE`. @example requireRoles({ any: ['admin', 'editor'] }) */
export const requireRoles: (match: Match) => RequestHandler = helpers.requireRoles
/** `authorize({ permissions: match })`: 403 `ERR_POLICY_PERMISSION`. @example requirePermissions(['read:users', 'write:users']) */
export const requirePermissions: (match: Match) => RequestHandler = helpers.requirePermissions
/** `authorize({ groups: match })`: 403 `ERR_POLICY_GROUP`. @example requireGroups('staff') */
export const requireGroups: (match: Match) => RequestHandler = helpers.requireGroups

/**
 * Error middleware that renders GatehouseErrors (e.g. from `assertOwner` in a handler) and passes any
 * other error on. Mount it after your routes. It renders with the gate of the `authenticate()` that ran
 * on the request (its `realm`, its `onRejection`), else with `options.gate`, else without a realm.
 *
 * @example app.use(errorHandler())
 */
export function errorHandler(options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  const { gate } = options
  return (error, req, res, next) => {
    if (!isGatehouseError(error) || res.headersSent) return next(error)
    const mounted = mountedOf(req)
    send(res, (mounted?.gate ?? gate)?.reject(error, rejected(req)) ?? errorResponse(error))
  }
}

/**
 * `req.auth` with your principal and claim types, for handlers behind `authenticate()`. Throws
 * `ERR_NO_TOKEN` (401) for an anonymous request, so a handler that needs a caller never sees `null`.
 *
 * @example const { claims, principal } = authOf<User, MyClaims>(req)
 * @throws Error when `authenticate()` did not run on this route (a wiring mistake, not the client's).
 */
export function authOf<P = unknown, C extends JWTClaims = JWTClaims>(req: Request): AuthContext<P, C> {
  if (req.auth === undefined) throw new Error('gatehouse: authOf() on a route without authenticate()')
  if (req.auth === null) throw new GatehouseError('ERR_NO_TOKEN')
  return req.auth as unknown as AuthContext<P, C>
}
