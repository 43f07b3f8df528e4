/**
 * NestJS decorators: what a controller or handler requires (metadata read by the guard) and what a
 * handler receives (`@Auth()`, `@Claims()`, `@Principal()`). Requirements are validated where they are
 * written, so a bad literal fails when the class is defined, not at the first request.
 */
import {
  type CustomDecorator,
  createParamDecorator,
  type ExecutionContext,
  SetMetadata,
} from '@nestjs/common'
import { type AccessRule, type AuthContext, compileRule, type Match } from '../core/authz/index.js'
import { requireHelpers } from '../core/authz/require-helpers.js'

/** Injection token of the module's gate: `constructor(@Inject(GATEHOUSE_GATE) gate: Gate)`. */
export const GATEHOUSE_GATE: unique symbol = Symbol('gatehouse:gate')

/** Metadata keys, one per decorator; the guard combines them into one rule per level (see guard.ts). */
export const METADATA = {
  public: 'gatehouse:public',
  rule: 'gatehouse:rule',
  scopes: 'gatehouse:scopes',
  roles: 'gatehouse:roles',
  permissions: 'gatehouse:permissions',
  groups: 'gatehouse:groups',
} as const

/**
 * `'public'`, as in a rule and in Fastify's `config.access`: no token needed, and none is read (the guard
 * does not run the gate), so `@Auth()` is `null` even when a token is sent. For "anonymous allowed, but a
 * sent token must be valid" use `@Authorize({ optional: true })`.
 */
export const Public = (): CustomDecorator<string> => SetMetadata(METADATA.public, true)

// One metadata key per category, so that `@RequireScopes` and `@RequireRoles` on one handler both count.
const helpers = requireHelpers((requirements): CustomDecorator<string> => {
  const [[kind, match]] = Object.entries(requirements) as [[keyof typeof requirements, Match]]
  return SetMetadata(METADATA[kind], match)
}, 'Require')

/** Scopes the token must hold: a string (that one), an array (ALL), `{ any }`, `{ all }`. 403 `insufficient_scope`. */
export const RequireScopes: (match: Match) => CustomDecorator<string> = helpers.requireScopes
/** Roles the token must hold (403 `ERR_POLICY_ROLE`). @example @RequireRoles({ any: ['admin', 'editor'] }) */
export const RequireRoles: (match: Match) => CustomDecorator<string> = helpers.requireRoles
/** Permissions the token must hold (403 `ERR_POLICY_PERMISSION`). */
export const RequirePermissions: (match: Match) => CustomDecorator<string> = helpers.requirePermissions
/** Groups the token must hold (403 `ERR_POLICY_GROUP`). */
export const RequireGroups: (match: Match) => CustomDecorator<string> = helpers.requireGroups

/**
 * A full access rule: per-method requirements (`methods`), anonymous methods (`optional`), a `check`
 * predicate. Validated here: a bad rule throws a TypeError when the class is defined.
 *
 * @example @Authorize({ optional: ['GET'], methods: { POST: { scopes: 'write:messages' } } })
 */
export const Authorize = (rule: AccessRule): CustomDecorator<string> => {
  compileRule(rule)
  return SetMetadata(METADATA.rule, rule)
}

function authOf(context: ExecutionContext): AuthContext | null {
  return (context.switchToHttp().getRequest<{ auth?: AuthContext | null }>().auth ??
    null) as AuthContext | null
}

/** The request's {@link AuthContext}, or `null` on public routes and anonymous requests. */
export const Auth: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => authOf(context),
)

/** The verified claims (`undefined` when anonymous), or one claim: `@Claims('sub') sub: string`. */
export const Claims: (name?: string) => ParameterDecorator = createParamDecorator(
  (name: string | undefined, context: ExecutionContext) => {
    const claims = authOf(context)?.claims
    return name === undefined || claims === undefined ? claims : claims[name]
  },
)

/** What the gate's `principal` hook returned (`undefined` when anonymous or without a hook). */
export const Principal: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => authOf(context)?.principal,
)
