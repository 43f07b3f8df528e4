/**
 * `GatehouseModule`: provides the gate under {@link GATEHOUSE_GATE}, registers {@link GatehouseGuard} as a
 * global guard (APP_GUARD), so every route of the application is protected unless marked public, and
 * {@link GatehouseExceptionFilter} (APP_FILTER) for GatehouseErrors thrown by handlers. When the
 * application initializes, it resolves the rules of every controller's handlers, so that a combination
 * the guard refuses stops the start (a TypeError naming the handler) instead of answering 500 later.
 * With a `resource`, it serves the gate's Protected Resource Metadata (RFC 9728) at its well-known path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type DynamicModule,
  Global,
  Inject,
  Module,
  type ModuleMetadata,
  type OnModuleDestroy,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common'
import { PATH_METADATA } from '@nestjs/common/constants.js'
import {
  APP_FILTER,
  APP_GUARD,
  DiscoveryModule,
  DiscoveryService,
  HttpAdapterHost,
  MetadataScanner,
  Reflector,
} from '@nestjs/core'
import { createGate, type Gate, type GateOptions, isGate } from '../core/http/gate.js'
import type { ResourceMetadata } from '../core/http/resource-metadata.js'
import type { JWTClaims } from '../core/types.js'
import { GATEHOUSE_GATE } from './decorators.js'
import { GatehouseExceptionFilter } from './filter.js'
import { GatehouseGuard, resolveRoute } from './guard.js'

/** A gate from `createGate()` (you close it), or its options (the module builds the gate and closes it). */
export type GatehouseModuleOptions<P = unknown, C extends JWTClaims = JWTClaims> =
  | Gate<P, C>
  | GateOptions<P, C>

export interface GatehouseModuleAsyncOptions {
  imports?: ModuleMetadata['imports']
  /** Providers passed to `useFactory`, in order (e.g. `[ConfigService]`). */
  inject?: (string | symbol | Function)[]
  useFactory: (...args: never[]) => GatehouseModuleOptions | Promise<GatehouseModuleOptions>
}

const OPTIONS = Symbol('gatehouse:options')
/** Gates this module built, and so must close. */
const built = new WeakSet<Gate>()

function toGate(value: GatehouseModuleOptions): Gate {
  if (isGate(value)) return value
  const gate = createGate(value)
  built.add(gate)
  return gate
}

function build(options: Provider, imports: NonNullable<ModuleMetadata['imports']>): DynamicModule {
  return {
    module: GatehouseModule,
    global: true,
    imports: [...imports, DiscoveryModule],
    providers: [
      options,
      { provide: GATEHOUSE_GATE, inject: [OPTIONS], useFactory: toGate },
      { provide: APP_GUARD, useClass: GatehouseGuard },
      { provide: APP_FILTER, useClass: GatehouseExceptionFilter },
    ],
    exports: [GATEHOUSE_GATE],
  }
}

@Global()
@Module({})
export class GatehouseModule implements OnModuleInit, OnModuleDestroy {
  constructor(
    @Inject(GATEHOUSE_GATE) private readonly gate: Gate,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
  ) {}

  /**
   * @example
   * ```ts
   * @Module({ imports: [GatehouseModule.forRoot(optionsFromEnv())], controllers: [MessagesController] })
   * export class AppModule {}
   * ```
   */
  static forRoot<P, C extends JWTClaims>(options: GatehouseModuleOptions<P, C>): DynamicModule {
    return build({ provide: OPTIONS, useValue: options }, [])
  }

  /** Options from other providers. @example GatehouseModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ ... }) }) */
  static forRootAsync(options: GatehouseModuleAsyncOptions): DynamicModule {
    const { imports = [], inject = [], useFactory } = options
    return build(
      { provide: OPTIONS, inject, useFactory: useFactory as (...args: unknown[]) => unknown },
      imports,
    )
  }

  /**
   * Resolve every route's rules now: a refused combination stops `app.init()` / `app.listen()`. And
   * serve the gate's Protected Resource Metadata, when it has a `resource`.
   */
  onModuleInit(): void {
    const metadata = this.gate.resourceMetadata
    // No HTTP adapter in an application context without a server (createApplicationContext).
    const { httpAdapter } = this.adapterHost
    if (metadata !== undefined && httpAdapter !== undefined) httpAdapter.use(metadataMiddleware(metadata))
    const scanner = new MetadataScanner()
    for (const { metatype } of this.discovery.getControllers()) {
      if (typeof metatype !== 'function') continue
      for (const name of scanner.getAllMethodNames(metatype.prototype)) {
        const handler = (metatype.prototype as Record<string, unknown>)[name]
        if (typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined)
          continue
        resolveRoute(this.reflector, metatype, handler)
      }
    }
  }

  onModuleDestroy(): void {
    if (built.has(this.gate)) this.gate.close()
  }
}

/**
 * The metadata as middleware of the server itself (Express, or Fastify's middie), not a controller: at
 * the root of the host whatever the global prefix (RFC 9728 §3.1), outside the guard (a client reads it
 * before it has a token, §3), on every method (GET and HEAD 200, OPTIONS 204 for CORS preflights, the
 * others 405, as `respond` says). Both platforms hand middleware Node's request and response.
 */
function metadataMiddleware(metadata: ResourceMetadata) {
  const { path } = metadata
  return (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void) => {
    const url = req.originalUrl ?? req.url ?? '/'
    if (!url.startsWith(path) || (url.length > path.length && url[path.length] !== '?')) return next()
    const { status, headers, body } = metadata.respond(req.method ?? 'GET')
    // No Content-Length for an empty body: a HEAD answer must not state 0 (RFC 9110 §8.6).
    res.writeHead(status, body === '' ? headers : { ...headers, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  }
}
