/**
 * Protect a Streamable HTTP MCP endpoint built with `@modelcontextprotocol/sdk`: the gate verifies the
 * token (its audience the endpoint's own resource identifier, RFC 8707), every JSON-RPC call in the body
 * is authorized under its tool's or method's rule before the SDK dispatches it, and the verified request
 * reaches tool handlers as the SDK's `AuthInfo` (`extra.authInfo`).
 *
 * A tool layer, like an adapter: it translates and decides nothing. Verification and rules are the
 * gate's (`gate.check`, `gate.authorize`), and so are the refusals (`gate.reject`): a call whose rule
 * fails is a 403 `insufficient_scope` naming the tool's scopes and the metadata (`scope="notes:write",
 * resource_metadata="…"`), which the SDK's client answers by asking for those scopes (step-up).
 *
 * What it does NOT check: that a session (`Mcp-Session-Id`) is used by the caller that opened it; the
 * SDK's own request checks (Accept, Content-Type, protocol version, JSON-RPC shape), which the SDK
 * answers itself; `Origin` and `Host` (DNS rebinding: the SDK's `createMcpExpressApp` and
 * `allowedHosts` do).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js'
import type { AccessRule, AuthContext, CompiledRule } from '../core/authz/index.js'
import { isGatehouseError } from '../core/errors.js'
import type { ErrorResponse } from '../core/http/challenge.js'
import { createGate, type Gate, type GateOptions, isGate, toCompiledRule } from '../core/http/gate.js'
import type { ResourceMetadata } from '../core/http/resource-metadata.js'
import { isPlainObject } from '../core/lib/values.js'
import type { JWTClaims } from '../core/types.js'
import { headersOf, originOf } from '../node/headers.js'
import { toAuthInfo } from './auth-info.js'
import { DEFAULT_MAX_BODY_SIZE, type ReadBody, readNodeBody, readWebBody, tooLargeResponse } from './body.js'
import { readMcpCalls } from './calls.js'

/** Options of {@link protectMcp}. */
export interface McpOptions {
  /**
   * The rule of every request to the endpoint (POST, the GET stream, DELETE), checked first. Default: a
   * valid token.
   */
  rule?: AccessRule | CompiledRule
  /**
   * Rules per tool, by name: a `tools/call` of that tool must pass it too, e.g.
   * `{ write_note: { scopes: 'notes:write' } }`. A tool not listed needs only `rule` (and
   * `methods['tools/call']`).
   */
  tools?: Readonly<Record<string, AccessRule | CompiledRule>>
  /**
   * Rules per JSON-RPC method (not HTTP method), e.g. `{ 'resources/read': { scopes: 'notes:read' } }`:
   * every call of that method must pass it too.
   */
  methods?: Readonly<Record<string, AccessRule | CompiledRule>>
  /**
   * Largest body read to find the calls, in bytes, when no body parser read it (Express without
   * `express.json()`, Hono, Web): a larger one is answered 413 as the SDK would, unread. Default 4 MiB,
   * the SDK transport's `maxRequestBodySize`.
   */
  maxBodySize?: number
}

/** The parts of an Express 4 or 5 request the middleware reads (`express.Request` has them). */
export type ExpressRequestLike = IncomingMessage & { body?: unknown; originalUrl?: string }

/** An Express middleware, typed by what it uses so that this module needs no Express types. */
export type ExpressMiddleware = (
  req: ExpressRequestLike,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void

/** The parts of a Fastify 5 request the hooks read. */
export interface FastifyRequestLike {
  raw: IncomingMessage
  body?: unknown
  method: string
  url: string
}

/** The parts of a Fastify 5 reply the hooks write. */
export interface FastifyReplyLike {
  code(statusCode: number): unknown
  header(name: string, value: string): unknown
  send(payload?: string): unknown
}

/** A Fastify `preHandler` or route handler, typed by what it uses. */
export type FastifyHook = (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>

/**
 * What `web.authenticate` resolves with: the verified request and what the SDK's
 * `WebStandardStreamableHTTPServerTransport.handleRequest(request, options)` takes (`authInfo`,
 * `parsedBody`), or the refusal to return. With DPoP nonces, send `auth.dpopNonce` as `DPoP-Nonce` with
 * the response (the Express and Fastify glue do).
 */
export type McpWebResult<P = unknown, C extends JWTClaims = JWTClaims> =
  | {
      auth: AuthContext<P, C> | null
      /** The SDK's `AuthInfo`; undefined for an anonymous request that `rule` lets through. */
      authInfo: AuthInfo | undefined
      /** The JSON-RPC body the calls were read from; undefined when it is not JSON (the SDK answers). */
      parsedBody: unknown
      response?: undefined
    }
  | { auth?: undefined; authInfo?: undefined; parsedBody?: undefined; response: Response }

/** What {@link protectMcp} returns: the checks, and the glue for each framework. */
export interface McpProtection<P = unknown, C extends JWTClaims = JWTClaims> {
  readonly gate: Gate<P, C>
  /** The gate's Protected Resource Metadata (RFC 9728): `path`, `url`, `document`, `respond`. */
  readonly resourceMetadata: ResourceMetadata
  /**
   * Authorize every call in a JSON-RPC body (one message or a batch) under its method's and tool's rules,
   * after the gate checked the request under `rule`. Throws the GatehouseError of the first call refused
   * (403, or 401 `ERR_NO_TOKEN` for an anonymous request whose call needs a token).
   */
  authorizeCalls(auth: AuthContext<P, C> | null, body: unknown, method?: string): void
  /** The SDK's `AuthInfo` of a verified request (see `toAuthInfo`). */
  authInfo(auth: AuthContext<P, C>): AuthInfo
  /**
   * Express 4 and 5. `authenticate` verifies the token, authorizes the calls and sets `req.auth` to the
   * SDK's `AuthInfo`, where `StreamableHTTPServerTransport.handleRequest(req, res, req.body)` reads it
   * (as the SDK's own `requireBearerAuth` does); mount `express.json()` before it, or it reads the body
   * itself and sets `req.body`. `protectedResourceMetadata` answers the metadata document at its path
   * and passes every other request on: mount it at the root.
   */
  readonly express: {
    readonly authenticate: ExpressMiddleware
    readonly protectedResourceMetadata: ExpressMiddleware
  }
  /**
   * Fastify 5. `authenticate` is a `preHandler` (the body is parsed by then): it verifies, authorizes the
   * calls and sets `request.raw.auth` to the SDK's `AuthInfo`, where
   * `StreamableHTTPServerTransport.handleRequest(request.raw, reply.raw, request.body)` reads it.
   * `protectedResourceMetadata` is the handler of a route at `resourceMetadata.path`.
   */
  readonly fastify: {
    readonly authenticate: FastifyHook
    readonly protectedResourceMetadata: FastifyHook
  }
  /**
   * The Fetch API: Hono (`c.req.raw`), Bun, Deno, Workers. `authenticate` resolves with what the SDK's
   * `WebStandardStreamableHTTPServerTransport.handleRequest(request, result)` takes, or the response to
   * return; `resourceMetadataResponse` answers a request for the metadata document, else undefined.
   */
  readonly web: {
    authenticate(request: Request): Promise<McpWebResult<P, C>>
    resourceMetadataResponse(request: Request): Response | undefined
  }
}

const OPTIONS = ['rule', 'tools', 'methods', 'maxBodySize']

/** A map of rules, compiled now, so that a wrong rule stops start-up; a TypeError names its entry. */
function compileRules(option: string, value: unknown): Map<string, CompiledRule> {
  const rules = new Map<string, CompiledRule>()
  if (value === undefined) return rules
  if (!isPlainObject(value))
    throw new TypeError(
      `${option}: expected an object of rules such as { write_note: { scopes: 'notes:write' } }`,
    )
  for (const [name, rule] of Object.entries(value)) {
    try {
      rules.set(name, toCompiledRule(rule as AccessRule | CompiledRule))
    } catch (error) {
      if (error instanceof TypeError)
        throw new TypeError(error.message.replace(/^rule\b/, `${option}.${name}`))
      throw error
    }
  }
  return rules
}

/** The path of a request URL, absolute or not, without its query. */
function pathOf(url: string): string {
  const path = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.test(url) ? new URL(url).pathname : url
  const end = path.search(/[?#]/)
  return end === -1 ? path : path.slice(0, end)
}

function writeNode(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.statusCode = status
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  // An empty body is none: a HEAD answer states no `Content-Length: 0` (RFC 9110 §8.6).
  res.end(body === '' ? undefined : body)
}

function sendFastify(reply: FastifyReplyLike, status: number, headers: Record<string, string>, body: string) {
  reply.code(status)
  for (const [name, value] of Object.entries(headers)) reply.header(name, value)
  return reply.send(body === '' ? undefined : body)
}

/**
 * Protect an MCP endpoint: verification, per-tool rules, the metadata document, and the SDK's
 * `AuthInfo`. The gate must have `resource` (GATEHOUSE_RESOURCE), the endpoint's URL: MCP clients find
 * the authorization server through its metadata (RFC 9728), and tokens must be issued for it (RFC 8707).
 *
 * @param source a gate from `createGate()` (closed by you), or the options to build one
 * @throws TypeError for a gate without `resource`, an unknown option or a wrong rule (naming it)
 * @example
 * ```ts
 * const mcp = protectMcp(createGate(optionsFromEnv()), { tools: { write_note: { scopes: 'notes:write' } } })
 * app.use(mcp.express.protectedResourceMetadata)
 * app.post('/mcp', express.json(), mcp.express.authenticate, (req, res) => transport.handleRequest(req, res, req.body))
 * ```
 */
export function protectMcp<P = unknown, C extends JWTClaims = JWTClaims>(
  source: Gate<P, C> | GateOptions<P, C>,
  options: McpOptions = {},
): McpProtection<P, C> {
  if (!isPlainObject(options as unknown))
    throw new TypeError('options: expected an object such as { tools: { … } }')
  for (const name of Object.keys(options))
    if (!OPTIONS.includes(name)) throw new TypeError(`${name}: unknown option (one of ${OPTIONS.join(', ')})`)
  const gate = isGate(source) ? source : createGate<P, C>(source)
  const metadata = gate.resourceMetadata
  if (metadata === undefined)
    throw new TypeError(
      'resource: expected the MCP endpoint’s URL as the gate’s resource identifier (GATEHOUSE_RESOURCE, e.g. https://notes.example.com/mcp): MCP clients find the authorization server through its metadata (RFC 9728)',
    )
  const base = toCompiledRule(options.rule)
  const tools = compileRules('tools', options.tools)
  const methods = compileRules('methods', options.methods)
  const { maxBodySize = DEFAULT_MAX_BODY_SIZE } = options
  if (!Number.isInteger(maxBodySize) || maxBodySize <= 0)
    throw new TypeError(`maxBodySize: expected a positive whole number of bytes, got ${String(maxBodySize)}`)
  const needsBody = tools.size > 0 || methods.size > 0

  function authorizeCalls(auth: AuthContext<P, C> | null, body: unknown, method = 'POST'): void {
    for (const call of readMcpCalls(body)) {
      const byMethod = methods.get(call.method)
      if (byMethod !== undefined) gate.authorize(auth, method, byMethod)
      const byTool = call.tool === undefined ? undefined : tools.get(call.tool)
      if (byTool !== undefined) gate.authorize(auth, method, byTool)
    }
  }
  const authInfo = (auth: AuthContext<P, C>) => toAuthInfo(auth, metadata.resource)
  const authInfoOf = (auth: AuthContext<P, C> | null) => (auth === null ? undefined : authInfo(auth))

  /** The body to read the calls from: what a parser left, else read here when rules need it. */
  async function bodyOf(given: unknown, read: () => Promise<ReadBody>, method: string): Promise<ReadBody> {
    if (given !== undefined || method !== 'POST' || !needsBody) return { tooLarge: false, value: given }
    return read()
  }

  const express: McpProtection<P, C>['express'] = {
    authenticate(req, res, next) {
      const rejected = { method: req.method ?? '', url: req.originalUrl ?? req.url, headers: req.headers }
      const refuse = (error: unknown) => {
        if (!isGatehouseError(error) || res.headersSent) return next(error)
        const { status, headers, body } = gate.reject(error, rejected)
        writeNode(res, status, headers, JSON.stringify(body))
      }
      const input = {
        method: req.method ?? '',
        headers: headersOf(req),
        url: req.originalUrl ?? req.url,
        origin: originOf(req),
      }
      // Errors of the checks are answered here; `next()` runs outside them, so a later handler's error
      // is Express's to handle, not answered as a refusal.
      const checked = async (): Promise<boolean> => {
        const auth = await gate.check(input, base)
        const read = await bodyOf(req.body, () => readNodeBody(req, maxBodySize), input.method)
        if (read.tooLarge) {
          const { status, headers, body } = tooLargeResponse(maxBodySize)
          writeNode(res, status, headers, body)
          return false
        }
        if (read.value !== undefined) req.body = read.value
        authorizeCalls(auth, read.value, input.method)
        ;(req as { auth?: AuthInfo }).auth = authInfoOf(auth)
        if (auth?.dpopNonce !== undefined) res.setHeader('dpop-nonce', auth.dpopNonce)
        return true
      }
      checked().then((passed) => passed && next(), refuse)
    },
    protectedResourceMetadata(req, res, next) {
      if (pathOf(req.originalUrl ?? req.url ?? '') !== metadata.path) return next()
      const { status, headers, body } = metadata.respond(req.method ?? '')
      writeNode(res, status, headers, body)
    },
  }

  const fastify: McpProtection<P, C>['fastify'] = {
    async authenticate(request, reply) {
      const input = {
        method: request.method,
        headers: headersOf(request.raw),
        url: request.url,
        origin: originOf(request.raw),
      }
      const rejected = { method: request.method, url: request.url, headers: request.raw.headers }
      let auth: AuthContext<P, C> | null
      try {
        auth = await gate.check(input, base)
        // Fastify parsed the body before this hook: a body it could not parse never gets here.
        authorizeCalls(auth, request.body, request.method)
      } catch (error) {
        if (!isGatehouseError(error)) throw error
        const { status, headers, body } = gate.reject(error, rejected)
        return sendFastify(reply, status, headers, JSON.stringify(body))
      }
      ;(request.raw as { auth?: AuthInfo }).auth = authInfoOf(auth)
      if (auth?.dpopNonce !== undefined) reply.header('dpop-nonce', auth.dpopNonce)
    },
    async protectedResourceMetadata(request, reply) {
      const { status, headers, body } = metadata.respond(request.method)
      return sendFastify(reply, status, headers, body)
    },
  }

  const web: McpProtection<P, C>['web'] = {
    async authenticate(request) {
      let auth: AuthContext<P, C> | null
      let read: ReadBody
      try {
        auth = await gate.check({ method: request.method, headers: request.headers, url: request.url }, base)
        read = await bodyOf(undefined, () => readWebBody(request, maxBodySize), request.method)
        if (!read.tooLarge) authorizeCalls(auth, read.value, request.method)
      } catch (error) {
        if (!isGatehouseError(error)) throw error
        return { response: webResponse(gate.reject(error, request)) }
      }
      if (read.tooLarge) {
        const { status, headers, body } = tooLargeResponse(maxBodySize)
        return { response: new Response(body, { status, headers }) }
      }
      return { auth, authInfo: authInfoOf(auth), parsedBody: read.value }
    },
    resourceMetadataResponse(request) {
      if (!request.url.includes(metadata.path) || pathOf(request.url) !== metadata.path) return undefined
      const { status, headers, body } = metadata.respond(request.method)
      return new Response(body === '' ? null : body, { status, headers })
    },
  }

  return { gate, resourceMetadata: metadata, authorizeCalls, authInfo, express, fastify, web }
}

function webResponse({ status, headers, body }: ErrorResponse): Response {
  return new Response(JSON.stringify(body), { status, headers })
}
