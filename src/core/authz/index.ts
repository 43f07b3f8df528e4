/**
 * Authorization: the rule language (docs/authorization.md), its evaluator and object-level checks.
 * Framework-agnostic; adapters only call `compileRule(...).authorize(auth, method)` through the gate.
 * A rule is a plain object literal (`{ scopes: 'read:messages' }`); the `require*` helpers are the
 * adapters' (src/core/authz/require-helpers.ts builds them), and mean "enforce here".
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
} from './rule.js'
