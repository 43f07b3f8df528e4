/**
 * The global guard: every route needs a valid token unless marked `@Public()` (secure by default, as
 * DRF's `IsAuthenticated`). It reads the decorators' metadata, runs the gate and attaches `request.auth`.
 *
 * Levels, as Express's router `authenticate()` and route `authorize()`: a class's requirements and its
 * handler's are two rules, and BOTH must pass (a handler's `@RequireScopes('admin')` under a class's
 * `@Authorize({ optional: ['GET'] })` needs a token with `admin` on GET). A level with no decorator adds
 * nothing; with neither, the route needs a valid token. `@Public()` on a handler exempts it from its
 * class's requirements (no token is read); `@Public()` on a class leaves its handlers' own rules alone.
 *
 * Refused when the application starts (GatehouseModule checks every controller), with a TypeError naming
 * the handler: `@Public()` with a requirement on one level; `@RequireScopes` with `@Authorize({ scopes })`
 * on one level; a handler rule that lets a method through without a token (`optional`, `'public'`) where
 * its class requires one, since the class would refuse that anonymous request anyway.
 *
 * What it does NOT guard: non-HTTP contexts (WebSocket, microservices). There it denies everything that
 * is not `@Public()`, since it cannot read a bearer token portably.
 */
import type { IncomingMessage } from 'node:http'
import { type CanActivate, type ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common'
import { HttpAdapterHost, Reflector } from '@nestjs/core'
import { type AccessRule, type AuthContext, type CompiledRule, compileRule } from '../core/authz/index.js'
import { type GatehouseError, isGatehouseError } from '../core/errors.js'
import type { ErrorBody } from '../core/http/challenge.js'
import type { Gate } from '../core/http/gate.js'
import { headersOf, originOf } from '../node/headers.js'
import { GATEHOUSE_GATE, METADATA } from './decorators.js'

const KINDS = ['scopes', 'roles', 'permissions', 'groups'] as const

/** The HttpException the guard throws: the gate's body and status, plus its headers for custom filters. */
export class GatehouseHttpException extends HttpException {
  constructor(
    body: ErrorBody,
    status: number,
    /** `WWW-Authenticate`, `Cache-Control`, `Retry-After`: already set on the response by the guard. */
    readonly headers: Readonly<Record<string, string>>,
    readonly error: GatehouseError,
  ) {
    super(body, status, { cause: error })
  }
}

/** Express's request is an IncomingMessage; Fastify's keeps it in `raw`. */
interface HttpRequest extends Pick<IncomingMessage, 'headers' | 'rawHeaders'> {
  method: string
  url?: string
  originalUrl?: string
  body?: unknown
  raw?: IncomingMessage
  auth?: AuthContext | null
  socket?: IncomingMessage['socket']
}

/** A route's rules: `public`, or the outer rule (the class's, or the only one) and the handler's, both to pass. */
export type Resolved = 'public' | { readonly outer: CompiledRule; readonly inner?: CompiledRule }

const DEFAULT: Resolved = { outer: compileRule({}) }

/** One level's requirements (a handler's or a class's), `'public'`, or undefined when it has none. */
function level(reflector: Reflector, target: Function, where: string): AccessRule | 'public' | undefined {
  const isPublic = reflector.get<boolean | undefined>(METADATA.public, target) === true
  const base = reflector.get<AccessRule | undefined>(METADATA.rule, target)
  let rule: Record<string, unknown> | undefined
  if (base !== undefined) {
    rule = Object.fromEntries(Object.entries(base).filter(([, value]) => value !== undefined))
  }
  for (const kind of KINDS) {
    const match = reflector.get<unknown>(METADATA[kind], target)
    if (match === undefined) continue
    rule ??= {}
    if (rule[kind] !== undefined) {
      throw new TypeError(`${where}: @Authorize({ ${kind} }) and @Require… both set ${kind}; use one`)
    }
    rule[kind] = match
  }
  if (isPublic && rule !== undefined) {
    throw new TypeError(`${where}: @Public() together with a requirement; use one`)
  }
  return isPublic ? 'public' : (rule as AccessRule | undefined)
}

/** Methods a handler rule lets through without a token while its class rule requires one. */
function unreachable(handler: CompiledRule, cls: CompiledRule): string[] {
  const named = new Set([...Object.keys(handler.summary.methods), ...Object.keys(cls.summary.methods)])
  const found = [...named].filter((m) => !handler.requiresToken(m) && cls.requiresToken(m))
  if (handler.summary.default.access !== 'required' && cls.summary.default.access === 'required') {
    found.push('every other method')
  }
  return found
}

/**
 * The rules of one handler of one controller class. Throws a TypeError naming the handler for a
 * combination whose meaning is not obvious (see the module comment).
 */
export function resolveRoute(reflector: Reflector, cls: Function, handler: Function): Resolved {
  const className = cls.name || '(anonymous class)'
  const own = level(reflector, handler, `${className}.${handler.name}`)
  const inherited = level(reflector, cls, className)
  if (own === 'public') return 'public'
  if (own === undefined) {
    if (inherited === 'public') return 'public'
    return inherited === undefined ? DEFAULT : { outer: compileRule(inherited) }
  }
  const handlerRule = compileRule(own)
  if (inherited === undefined || inherited === 'public') return { outer: handlerRule }
  const classRule = compileRule(inherited)
  const methods = unreachable(handlerRule, classRule)
  if (methods.length > 0) {
    throw new TypeError(
      `${className}.${handler.name}: its rule lets ${methods.join(', ')} through without a token, but ` +
        `${className} requires one, and both levels must pass; make the method optional on the class ` +
        'too, or mark the handler @Public()',
    )
  }
  return { outer: classRule, inner: handlerRule }
}

@Injectable()
export class GatehouseGuard implements CanActivate {
  readonly #cache = new WeakMap<object, Map<object, Resolved>>()

  // Explicit tokens: no reliance on emitDecoratorMetadata in anyone's build.
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(GATEHOUSE_GATE) private readonly gate: Gate,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rules = this.#resolve(context.getClass(), context.getHandler())
    if (context.getType() !== 'http') return rules === 'public'
    const http = context.switchToHttp()
    const request = http.getRequest<HttpRequest>()
    if (rules === 'public') {
      request.auth = null
      return true
    }
    const url = request.originalUrl ?? request.url
    try {
      // Every Authorization value that was sent, not only the first that Node keeps (see node/headers.ts).
      const headers = headersOf(request.raw ?? request)
      // As the socket received it: proxy headers only through the gate's own options.
      const origin = originOf(request.raw ?? (request as IncomingMessage))
      const auth = await this.gate.check(
        { method: request.method, headers, url, origin, body: request.body },
        rules.outer,
      )
      if (rules.inner !== undefined) this.gate.authorize(auth, request.method, rules.inner)
      request.auth = auth
      // A fresh DPoP nonce for the client's next proof (RFC 9449 §8.2).
      if (auth?.dpopNonce !== undefined)
        this.adapterHost.httpAdapter.setHeader(http.getResponse(), 'dpop-nonce', auth.dpopNonce)
      return true
    } catch (error) {
      if (!isGatehouseError(error)) throw error
      const { status, headers, body } = this.gate.reject(error, {
        method: request.method,
        url,
        headers: request.headers,
      })
      // Set here, not in a filter: an application's catch-all filter must not lose the challenge.
      const response = http.getResponse()
      const { httpAdapter } = this.adapterHost
      for (const [name, value] of Object.entries(headers)) httpAdapter.setHeader(response, name, value)
      throw new GatehouseHttpException(body, status, headers, error)
    }
  }

  #resolve(cls: Function, handler: Function): Resolved {
    let byHandler = this.#cache.get(cls)
    if (byHandler === undefined) {
      byHandler = new Map()
      this.#cache.set(cls, byHandler)
    }
    let resolved = byHandler.get(handler)
    if (resolved === undefined) {
      resolved = resolveRoute(this.reflector, cls, handler)
      byHandler.set(handler, resolved)
    }
    return resolved
  }
}
