/**
 * gatehouse/fastify: a Fastify 5 plugin. Verification runs in an `onRequest` hook, before the body is
 * read (so a token in a form body cannot be seen: `tokenLocations: ['body']` is refused at registration);
 * every route needs a valid token unless its config says otherwise (everything is protected unless
 * marked `'public'`). It translates only; every decision is the core's (gate.ts).
 *
 * The app's error handler stays the app's: GatehouseErrors that handlers throw are rendered by a
 * route-level error handler the plugin gives each route it sees, which passes every other error on.
 *
 * Route config `access` (the word `auth` is kept for the verified request, `request.auth`):
 * - absent: the plugin's `rule` (default: a valid token) when `protectAll` is on, else nothing;
 * - an AccessRule: that rule instead (per-method requirements, `optional` methods for anonymous access);
 * - `'public'`: Gatehouse does not touch the request (`request.auth` stays null, a sent token is not read).
 *
 * With a `resource`, the plugin also serves the gate's Protected Resource Metadata (RFC 9728) at
 * `gate.resourceMetadata.path`, a public route.
 *
 * @example
 * ```ts
 * await app.register(gatehouse, optionsFromEnv())
 * app.get('/public', { config: { access: 'public' } }, async () => ({ message: 'This is a public message!' }))
 * app.get('/scoped', { config: { access: { scopes: 'read:messages' } } }, async (req) => ({ sub: authOf(req).claims.sub }))
 * ```
 */
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify'
import fp from 'fastify-plugin'
import type { AccessRule, AuthContext, CompiledRule, Match } from '../core/authz/index.js'
import { requireHelpers } from '../core/authz/require-helpers.js'
import { GatehouseError, isGatehouseError } from '../core/errors.js'
import { createGate, type Gate, type GateOptions, toCompiledRule } from '../core/http/gate.js'
import type { ResourceMetadata } from '../core/http/resource-metadata.js'
import type { JWTClaims } from '../core/types.js'
import { PENDING, type Pending } from '../core/verify/verifier.js'
import { headersOf, originOf } from '../node/headers.js'

/** A route's `config.access`: its rule, or `'public'` for a route Gatehouse leaves alone (no token read). */
export type RouteAccess = AccessRule | CompiledRule | 'public'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified request; `null` when anonymous (an `optional` method, or a `'public'` route). */
    auth: AuthContext | null
  }
  interface FastifyContextConfig {
    /** This route's rule, or `'public'` to leave it alone. See the gatehouse/fastify module doc. */
    access?: RouteAccess
  }
  interface FastifyInstance {
    /** The gate the plugin uses, for `gate.authorize()` and `gate.reject()` in your own code. */
    gatehouse: Gate
  }
}

interface PluginOptions {
  /** Check routes without `config.access` against `rule`. Default true: public routes say so. */
  protectAll?: boolean
  /** The rule of routes without `config.access`. Default `{}`: a valid token. */
  rule?: AccessRule | CompiledRule
  /**
   * Render GatehouseErrors thrown by handlers (`assertOwner`) and by `preHandler`s: each route registered
   * after the plugin gets a route-level error handler that renders them and passes every other error on,
   * to the route's own `errorHandler` if it has one, else to the app's. The app's error handler is never
   * replaced (so `allowErrorHandlerOverride: false` works). Default true; with false, GatehouseErrors reach
   * the app's error handler: render them there with {@link sendError}.
   */
  errorHandler?: boolean
}

/**
 * The plugin's options: `protectAll`, `rule`, `errorHandler`, and a gate you built (`gate`, not closed by
 * the plugin) or the options to build one.
 */
export type GatehousePluginOptions<P = unknown, C extends JWTClaims = JWTClaims> = PluginOptions &
  ({ gate: Gate<P, C> } | (GateOptions<P, C> & { gate?: undefined }))

/**
 * Send a GatehouseError's response (status, `WWW-Authenticate`, JSON body) with the plugin's gate, which
 * reports it to its `onRejection` with the request's method and path. Returns the reply, as async hooks
 * must.
 *
 * @example app.setErrorHandler((error, request, reply) => isGatehouseError(error) ? sendError(reply, error) : reply.send(error))
 */
export function sendError(reply: FastifyReply, error: GatehouseError): FastifyReply {
  const gate = reply.server.gatehouse
  const { method, url, headers: sent } = reply.request
  const { status, headers, body } = gate.reject(error, { method, url, headers: sent })
  return reply.code(status).headers(headers).send(JSON.stringify(body))
}

type RouteErrorHandler = (
  this: unknown,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) => unknown
const RENDERS = Symbol('gatehouse:renders')
/** Marks the config of a route the plugin saw being added (and gave its error handler). */
const SEEN = Symbol('gatehouse:seen')

/** A route's error handler that renders GatehouseErrors, and leaves the rest to `own` or to the app's. */
function routeErrorHandler(own: RouteErrorHandler | undefined): RouteErrorHandler {
  if (own !== undefined && RENDERS in own) return own // a HEAD route copied from its GET
  const handler: RouteErrorHandler = function (this: unknown, error, request, reply) {
    if (isGatehouseError(error) && !reply.sent) return sendError(reply, error)
    if (own !== undefined) return own.call(this, error, request, reply)
    throw error // Fastify hands it to the error handler of the route's context: the app's
  }
  return Object.assign(handler, { [RENDERS]: true })
}

/**
 * The metadata's route: every method (GET and HEAD 200, OPTIONS 204 for CORS preflights, the others 405,
 * as `respond` says), public (a client reads it before it has a token, RFC 9728 §3). Not added where the
 * app has its own route at that path, nor under a prefix, which would move it from the root of the
 * host, where clients look for it (§3.1): said once, in the log.
 */
function serveMetadata(fastify: FastifyInstance, metadata: ResourceMetadata): void {
  if (fastify.prefix !== '') {
    fastify.log.warn(
      `gatehouse: registered under the prefix ${fastify.prefix}, so it does not serve the Protected Resource ` +
        `Metadata at ${metadata.path}, which must be at the root: register the plugin at the root too, or ` +
        'answer that path with `app.gatehouse.resourceMetadata.respond(method)`',
    )
    return
  }
  if (fastify.hasRoute({ method: 'GET', url: metadata.path })) return
  fastify.all(metadata.path, { config: { access: 'public' } }, (request, reply) => {
    const { status, headers, body } = metadata.respond(request.method)
    // An empty body is none, so that a HEAD answer states no `Content-Length: 0` (RFC 9110 §8.6).
    return reply
      .code(status)
      .headers(headers)
      .send(body === '' ? undefined : body)
  })
}

const plugin: FastifyPluginAsync<GatehousePluginOptions> = async (fastify, options) => {
  const { protectAll = true, rule: defaultRule, errorHandler = true, gate: given, ...gateOptions } = options
  const gate: Gate = given ?? createGate(gateOptions as GateOptions)
  // The onRequest hook runs before Fastify reads the body: a body token would be silently never found.
  if (gate.tokenLocations?.includes('body')) {
    if (given === undefined) gate.close()
    throw new TypeError(
      "tokenLocations: 'body' cannot work with gatehouse/fastify, which verifies in an onRequest hook, " +
        "before the body is read; use 'header' (RFC 6750 §2.1) or 'query'",
    )
  }
  const fallback = protectAll ? toCompiledRule(defaultRule) : undefined

  fastify.decorate('gatehouse', gate)
  fastify.decorateRequest('auth', null)
  fastify.addHook('onRoute', (route) => {
    // Compile each route's rule as the route is added: a wrong rule stops start-up, not a request.
    const access = route.config?.access
    if (access !== undefined && access !== 'public') toCompiledRule(access)
    // A route-level handler, not setErrorHandler: the app's error handler is the app's to set.
    if (errorHandler) {
      route.errorHandler = routeErrorHandler(route.errorHandler as RouteErrorHandler | undefined) as never
      route.config = { ...route.config, [SEEN]: true } as typeof route.config
    }
  })
  if (gate.resourceMetadata !== undefined) serveMetadata(fastify, gate.resourceMetadata)
  // A route added before the plugin finished loading (`app.register(...)` not awaited) never passed the
  // onRoute hook above: it is protected, but GatehouseErrors its handler throws reach the app's error
  // handler without a challenge. Said once per route, in the log.
  const unseen = new Set<string>()
  function warnUnseen(request: FastifyRequest): void {
    const route = `${request.method} ${request.routeOptions.url}`
    if (unseen.has(route)) return
    unseen.add(route)
    request.log.warn(
      `gatehouse: ${route} was added before the plugin finished loading, so errors its handler throws ` +
        'are not rendered with a WWW-Authenticate challenge: `await app.register(gatehouse, …)` before adding routes',
    )
  }
  // Callback style, not async: a request whose token needs no I/O (cached, or its key loaded) is answered
  // in the same tick, without a promise per request (measured by bench:http).
  fastify.addHook('onRequest', (request, reply, done) => {
    // Unknown URLs answer 404 as they would without Gatehouse (as in Express and Django).
    const config = request.is404
      ? undefined
      : (request.routeOptions.config as unknown as Record<PropertyKey, unknown>)
    if (errorHandler && config !== undefined && config[SEEN] !== true) warnUnseen(request)
    const configured = config === undefined ? 'public' : (config.access as RouteAccess | undefined)
    const rule = configured === undefined ? fallback : configured === 'public' ? undefined : configured
    if (rule === undefined) {
      done()
      return
    }
    const input = {
      method: request.method,
      headers: headersOf(request.raw),
      url: request.url,
      // As the socket received it: proxy headers only through the gate's own options (publicUrl, trustForwardedHeaders).
      origin: originOf(request.raw),
    }
    // Nothing is returned from this hook: a returned reply is a thenable that Fastify would wait on.
    const failed = (error: unknown) => {
      if (isGatehouseError(error)) sendError(reply, error)
      else done(error as Error)
    }
    let now: AuthContext | null | Pending
    try {
      now = gate.checkSync(input, rule)
    } catch (error) {
      failed(error)
      return
    }
    if (now !== PENDING) {
      request.auth = now
      if (now?.dpopNonce !== undefined) reply.header('dpop-nonce', now.dpopNonce)
      done()
      return
    }
    gate.check(input, rule).then((auth) => {
      request.auth = auth
      if (auth?.dpopNonce !== undefined) reply.header('dpop-nonce', auth.dpopNonce)
      done()
    }, failed)
  })
  if (given === undefined) fastify.addHook('onClose', async () => gate.close())
}

/**
 * The plugin. Register it before the routes it protects; it is not encapsulated (`fastify-plugin`), so
 * it covers the context it is registered in and that context's children.
 *
 * @example await app.register(gatehouse, { ...optionsFromEnv(), protectAll: true })
 */
export const gatehouse = fp(plugin, { name: 'gatehouse', fastify: '5.x' })
export default gatehouse

/**
 * A `preHandler` that authorizes the request under another rule, after the plugin's check; both must pass.
 *
 * @example app.post('/posts', { preHandler: authorize({ scopes: 'write:messages' }) }, handler)
 */
export function authorize(rule: AccessRule | CompiledRule): preHandlerAsyncHookHandler {
  const compiled = toCompiledRule(rule)
  return async function authorize(request: FastifyRequest, reply: FastifyReply) {
    const gate = request.server.gatehouse
    if (gate === undefined)
      throw new Error('gatehouse: register the gatehouse plugin before using its preHandlers')
    try {
      gate.authorize(request.auth, request.method, compiled)
    } catch (error) {
      if (!isGatehouseError(error)) throw error
      return sendError(reply, error)
    }
  }
}

const helpers = requireHelpers(authorize)
/** `authorize({ scopes: match })`: 403 `insufficient_scope` with `scope="…"`. @example { preHandler: requireScopes('read:messages') } */
export const requireScopes: (match: Match) => preHandlerAsyncHookHandler = helpers.requireScopes
/** `authorize({ roles: match })`: 403 `ERR_POLICY_ROLE`. @example { preHandler: requireRoles({ any: ['admin', 'editor'] }) } */
export const requireRoles: (match: Match) => preHandlerAsyncHookHandler = helpers.requireRoles
/** `authorize({ permissions: match })`: 403 `ERR_POLICY_PERMISSION`. @example { preHandler: requirePermissions('read:users') } */
export const requirePermissions: (match: Match) => preHandlerAsyncHookHandler = helpers.requirePermissions
/** `authorize({ groups: match })`: 403 `ERR_POLICY_GROUP`. @example { preHandler: requireGroups('staff') } */
export const requireGroups: (match: Match) => preHandlerAsyncHookHandler = helpers.requireGroups

/**
 * `request.auth` with your principal and claim types, never null: throws `ERR_NO_TOKEN` (401) for an
 * anonymous request (rendered by the plugin).
 *
 * @example const { claims, principal } = authOf<User, MyClaims>(request)
 */
export function authOf<P = unknown, C extends JWTClaims = JWTClaims>(
  request: FastifyRequest,
): AuthContext<P, C> {
  if (request.auth === null) throw new GatehouseError('ERR_NO_TOKEN')
  return request.auth as unknown as AuthContext<P, C>
}
