/**
 * The four `require*` helpers every adapter exports, built once from the adapter's own "authorize here"
 * function (an Express or Hono middleware, a Fastify preHandler, a NestJS decorator). In the adapters
 * `require*` means "enforce here"; the core itself has no `require*`: a rule is a plain object literal.
 * Internal: not exported from `gatehouse`.
 */
import { type Match, normalizeMatch } from './match.js'
import type { Requirements } from './rule.js'

/** What each helper hands to the adapter: one category and its match. */
export type SingleRequirement = Pick<Requirements, 'scopes' | 'roles' | 'permissions' | 'groups'>

export interface RequireHelpers<H> {
  /** `authorize({ scopes: match })`: 403 `insufficient_scope` with `scope="…"` when missing. */
  requireScopes(match: Match): H
  /** `authorize({ roles: match })`: 403 `ERR_POLICY_ROLE` when missing. */
  requireRoles(match: Match): H
  /** `authorize({ permissions: match })`: 403 `ERR_POLICY_PERMISSION` when missing. */
  requirePermissions(match: Match): H
  /** `authorize({ groups: match })`: 403 `ERR_POLICY_GROUP` when missing. */
  requireGroups(match: Match): H
}

/**
 * Build the four helpers from `authorize`. Each validates its match where it is written (a bad literal is
 * a TypeError naming the helper, e.g. `requireScopes: expected at least one value`), then calls
 * `authorize` with a one-category rule.
 *
 * @param prefix how the helpers are spelled in messages: `require` (functions) or `Require` (decorators)
 */
export function requireHelpers<H>(
  authorize: (requirements: SingleRequirement) => H,
  prefix: 'require' | 'Require' = 'require',
): RequireHelpers<H> {
  const helper =
    (category: 'scopes' | 'roles' | 'permissions' | 'groups', name: string) =>
    (match: Match): H => {
      normalizeMatch(match, `${prefix}${name}`, category === 'scopes')
      return authorize({ [category]: match })
    }
  return {
    requireScopes: helper('scopes', 'Scopes'),
    requireRoles: helper('roles', 'Roles'),
    requirePermissions: helper('permissions', 'Permissions'),
    requireGroups: helper('groups', 'Groups'),
  }
}
