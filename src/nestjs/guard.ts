/**
 * The global guard: every route needs a valid token unless marked `@Public()` (seed 000: DRF's default
 * `IsAuthenticated`). It reads the decorators' metadata, runs the gate and attaches `request.auth`.
 *
 * Precedence, key by key: a handler's `@RequireScopes` replaces its class's `@RequireScopes`, and so on
 * for roles, permissions, groups and each member of `@AccessRule` (`optional`, `methods`, `check`...);
 * what the handler does not set is inherited from the class. `@Public()` on a handler wins over any class
 * requirement; `@Public()` on a class applies to handlers with no requirement of their own. On one level,
 * `@Public()` with a requirement, or `@RequireScopes` with `@AccessRule({ scopes })`, is ambiguous: a
 * TypeError at the first request (a 500, never an open route).
 *
 * What it does NOT guard: non-HTTP contexts (WebSocket, microservices). There it denies everything that
 * is not `@Public()`, since it cannot read a bearer token portably.
 */
import type { IncomingMessage } from 'node:http'
import { type CanActivate, type ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common'
import { HttpAdapterHost, Reflector } from '@nestjs/core'
import type { ErrorBody } from '../core/challenge.js'
import { type GatehouseError, isGatehouseError } from '../core/errors.js'
import type { Gate } from '../core/gate.js'
import { type AccessRule, type AuthContext, type CompiledRule, compileRule } from '../core/policy/index.js'
import { headersOf } from '../node/headers.js'
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
}

type Resolved = CompiledRule | 'public'

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
    const rule = this.#resolve(context.getClass(), context.getHandler())
    if (context.getType() !== 'http') return rule === 'public'
    const http = context.switchToHttp()
    const request = http.getRequest<HttpRequest>()
    if (rule === 'public') {
      request.auth = null
      return true
    }
    try {
      // Every Authorization value that was sent, not only the first that Node keeps (see node/headers.ts).
      const headers = headersOf(request.raw ?? request)
      const url = request.originalUrl ?? request.url
      request.auth = await this.gate.check({ method: request.method, headers, url, body: request.body }, rule)
      return true
    } catch (error) {
      if (!isGatehouseError(error)) throw error
      const { status, headers, body } = this.gate.errorResponse(error)
      // Set here, not in a filter: an application's catch-all filter must not lose the challenge.
      const response = http.getResponse()
      const { httpAdapter } = this.adapterHost
      for (const [name, value] of Object.entries(headers)) httpAdapter.setHeader(response, name, value)
      throw new GatehouseHttpException(body, status, headers, error)
    }
  }

  #resolve(cls: object, handler: object): Resolved {
    let byHandler = this.#cache.get(cls)
    if (byHandler === undefined) {
      byHandler = new Map()
      this.#cache.set(cls, byHandler)
    }
    let resolved = byHandler.get(handler)
    if (resolved === undefined) {
      const where = `${(cls as { name?: string }).name}.${(handler as { name?: string }).name}`
      const own = this.#level(handler, where)
      const inherited = this.#level(cls, (cls as { name?: string }).name ?? '')
      if (own === 'public' || (own === undefined && inherited === 'public')) resolved = 'public'
      else resolved = compileRule({ ...(inherited === 'public' ? {} : inherited), ...own })
      byHandler.set(handler, resolved)
    }
    return resolved
  }

  /** One level's requirements (a handler's or a class's), `'public'`, or undefined when it has none. */
  #level(target: object, where: string): AccessRule | 'public' | undefined {
    const isPublic = this.reflector.get<boolean | undefined>(METADATA.public, target as Function) === true
    const base = this.reflector.get<AccessRule | undefined>(METADATA.rule, target as Function)
    let rule: Record<string, unknown> | undefined
    // Members set to undefined are dropped: they must not erase the class's requirement when merged.
    if (base !== undefined) {
      rule = Object.fromEntries(Object.entries(base).filter(([, value]) => value !== undefined))
    }
    for (const kind of KINDS) {
      const match = this.reflector.get<unknown>(METADATA[kind], target as Function)
      if (match === undefined) continue
      rule ??= {}
      if (rule[kind] !== undefined) {
        throw new TypeError(`${where}: @AccessRule({ ${kind} }) and @Require… both set ${kind}; use one`)
      }
      rule[kind] = match
    }
    if (isPublic && rule !== undefined) {
      throw new TypeError(`${where}: @Public() together with a requirement; use one`)
    }
    return isPublic ? 'public' : (rule as AccessRule | undefined)
  }
}
