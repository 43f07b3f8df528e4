/**
 * NestJS 10/11 adapter: `GatehouseModule` with a global guard (every route protected by default),
 * requirement decorators and parameter decorators. It translates only; every decision is the gate's.
 * `@nestjs/common` and `@nestjs/core` are optional peer dependencies; works from CommonJS apps through
 * Node's `require(esm)` (Node >= 20.19). See docs/adapters-hono-nestjs.md.
 *
 * @example
 * ```ts
 * @Controller('api')
 * @RequireScopes('read:messages')
 * export class MessagesController {
 *   @Get('messages') list(@Claims('sub') sub: string) { ... }
 *   @Public() @Get('health') health() { return { ok: true } }
 * }
 * ```
 */
export {
  Auth,
  Authorize,
  Claims,
  GATEHOUSE_GATE,
  METADATA,
  Principal,
  Public,
  RequireGroups,
  RequirePermissions,
  RequireRoles,
  RequireScopes,
} from './decorators.js'
export { GatehouseExceptionFilter } from './filter.js'
export { GatehouseGuard, GatehouseHttpException } from './guard.js'
export { GatehouseModule, type GatehouseModuleAsyncOptions, type GatehouseModuleOptions } from './module.js'
