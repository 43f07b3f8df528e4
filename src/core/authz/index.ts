/**
 * Authorization: the rule language (docs/authorization.md), its evaluator and object-level checks.
 * Framework-agnostic; adapters only call `compileRule(...).authorize(auth, method)` through the gate.
 */
export type { AuthContext } from './context.js'
export type { Match } from './match.js'
export { assertOwner, assertOwnerOrReadOnly, type OwnerOptions } from './owner.js'
export {
  type Access,
  type AccessRule,
  type CompiledRule,
  compileRule,
  type Method,
  type MethodSummary,
  type Requirements,
  type RuleSummary,
  requireGroups,
  requirePermissions,
  requireRoles,
  requireScopes,
} from './rule.js'
