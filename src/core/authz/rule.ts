/**
 * Access rules: what a route requires, per HTTP method, compiled once and evaluated per request.
 *
 * A rule has base requirements (scopes, roles, permissions, groups, and a `check` escape hatch) that
 * are AND-ed, evaluated in that fixed order, and the first failure is reported. `methods` gives a method
 * its own requirements, which REPLACE the base ones for that method (like axioms-drf-py's method-level
 * properties, which return a different list per method): `{ scopes: 'admin', methods: { GET: { scopes:
 * 'read' } } }` lets a `read` token GET. A method entry may loosen the base, so read a rule's `methods`
 * first. Two words for anonymous access, the same in every adapter: `optional` lets a request without a
 * token through as anonymous, while a token that is sent must still be valid; `'public'` does not read the
 * token at all (the request is anonymous whatever it carries).
 *
 * An optional method carries no requirements: whatever it required could be bypassed by sending no
 * token at all. So base requirements do not apply to optional methods, and requirements written for an
 * optional method are rejected at construction.
 *
 * HEAD follows GET (its entry and whether it is optional) unless HEAD is named itself: a HEAD is a GET
 * without a body and must not leak what GET protects.
 *
 * What a rule does NOT check: the token itself (verification comes first), object ownership (see
 * owner.ts: the application loads the object, then asserts), or anything about the request but its method.
 */
import { type ErrorCode, GatehouseError, type RequirementSummary } from '../errors.js'
import { isPlainObject } from '../lib/values.js'
import type { AuthContext } from './context.js'
import { type Match, type NormalizedMatch, normalizeMatch, satisfies, scopeAttribute } from './match.js'

/** What a token must hold. Categories are AND-ed and evaluated in the order listed here. */
export interface Requirements {
  /** Scopes (`scope` / `scp` by default). Failure: 403 `ERR_POLICY_SCOPE` with `insufficient_scope` and `scope="…"`. */
  scopes?: Match
  /** Roles. Failure: 403 `ERR_POLICY_ROLE`. */
  roles?: Match
  /** Permissions (Auth0 RBAC's `permissions`). Failure: 403 `ERR_POLICY_PERMISSION`. */
  permissions?: Match
  /** Groups. Failure: 403 `ERR_POLICY_GROUP`. */
  groups?: Match
  /**
   * Escape hatch, run last: return `true` to allow, `false` to deny (403 `ERR_POLICY_DENIED`). Must be
   * synchronous and return a boolean (a Promise would be truthy: it is a TypeError). A GatehouseError it
   * throws is passed on as is; any other error is the application's and is not turned into a 403.
   */
  check?: (auth: AuthContext) => boolean
}

/** The methods with names in the rule language; any other RFC 9110 method token is accepted too. */
export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS'

/** A route's rule: base requirements, plus per-method overrides and anonymous access. */
export interface AccessRule extends Requirements {
  /**
   * Methods (`true`: all) that let a request without a token through as anonymous (axioms' "allow GET
   * without auth"). A token that is sent must still be valid. Optional methods carry no requirements.
   */
  optional?: boolean | readonly string[]
  /**
   * Per-method requirements that REPLACE the base ones for that method (any case; stored upper-case),
   * or `'public'`: the token is not read, the request is anonymous. `{}` means "any valid token".
   */
  methods?: Partial<Record<Method | (string & {}), Requirements | 'public'>>
}

/**
 * How a method treats the token: `required`; `optional` (anonymous allowed, a sent token is verified);
 * `public` (the token is not read).
 */
export type Access = 'required' | 'optional' | 'public'

/** One method's effective rule, for documentation and framework metadata (OpenAPI, NestJS). */
export interface MethodSummary {
  readonly access: Access
  /** What the method requires (empty when it requires only a valid token, or nothing). */
  readonly required: RequirementSummary
  /** Whether a `check` predicate also runs. */
  readonly check: boolean
}

/** A compiled rule's effective requirements. */
export interface RuleSummary {
  /** For every method not listed in `methods`. */
  readonly default: MethodSummary
  /** Methods with an entry of their own (upper-case), HEAD included when it follows GET. */
  readonly methods: Readonly<Record<string, MethodSummary>>
}

/** A validated rule, ready for requests. */
export interface CompiledRule {
  /** Whether a request with this method (any case) must carry a token. */
  requiresToken(method: string): boolean
  /** How this method treats the token. */
  access(method: string): Access
  /**
   * Authorize an authenticated request. Returns when allowed; throws a 403 GatehouseError naming what
   * was required (never what the token held). Without an auth context, throws `ERR_NO_TOKEN` when the
   * method requires a token.
   */
  authorize(auth: AuthContext | null | undefined, method: string): void
  /** The effective requirements, for docs and framework metadata. */
  readonly summary: RuleSummary
}

const CATEGORIES = ['scopes', 'roles', 'permissions', 'groups'] as const
type Category = (typeof CATEGORIES)[number]

const FAILURE_CODE: Record<Category, ErrorCode> = {
  scopes: 'ERR_POLICY_SCOPE',
  roles: 'ERR_POLICY_ROLE',
  permissions: 'ERR_POLICY_PERMISSION',
  groups: 'ERR_POLICY_GROUP',
}

const REQUIREMENT_KEYS = new Set<string>([...CATEGORIES, 'check'])
const RULE_KEYS = new Set<string>([...REQUIREMENT_KEYS, 'optional', 'methods'])
/** RFC 9110 §9.1: method = token. */
const METHOD_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const EMPTY: ReadonlySet<string> = new Set()

interface Compiled {
  readonly matches: readonly { category: Category; match: NormalizedMatch; code: ErrorCode; scope?: string }[]
  readonly check: ((auth: AuthContext) => boolean) | undefined
}

interface Resolved {
  readonly access: Access
  readonly requirements: Compiled
}

const NOTHING: Compiled = Object.freeze({ matches: Object.freeze([]), check: undefined })

/**
 * One requirements object (the rule's base, or a method's entry): its keys checked against `allowed`,
 * each category's match normalized once, in the fixed evaluation order.
 */
function compileRequirements(
  source: Record<string, unknown>,
  option: string,
  allowed: ReadonlySet<string>,
): Compiled {
  for (const key of Object.keys(source)) {
    if (!allowed.has(key)) {
      const hint =
        key === 'scope' || key === 'role' || key === 'permission' || key === 'group'
          ? ` (did you mean ${key}s?)`
          : ''
      throw new TypeError(`${option}.${key}: unknown option${hint}`)
    }
  }
  const matches: Compiled['matches'][number][] = []
  for (const category of CATEGORIES) {
    if (source[category] === undefined) continue
    const match = normalizeMatch(source[category], `${option}.${category}`, category === 'scopes')
    matches.push({
      category,
      match,
      code: FAILURE_CODE[category],
      scope: category === 'scopes' ? scopeAttribute(match) : undefined,
    })
  }
  const { check } = source
  if (check !== undefined && typeof check !== 'function')
    throw new TypeError(`${option}.check: expected a function (auth) => boolean`)
  return Object.freeze({ matches: Object.freeze(matches), check: check as Compiled['check'] })
}

function isEmpty(requirements: Compiled): boolean {
  return requirements.matches.length === 0 && requirements.check === undefined
}

/** A method name as the rule stores it: an RFC 9110 §9.1 token, upper-cased. */
function methodName(value: unknown, option: string): string {
  if (typeof value !== 'string' || !METHOD_TOKEN.test(value)) {
    throw new TypeError(`${option}: expected an HTTP method name such as "GET", got ${JSON.stringify(value)}`)
  }
  return value.toUpperCase()
}

function summarize(resolved: Resolved): MethodSummary {
  const required: RequirementSummary = {}
  for (const { category, match } of resolved.requirements.matches) required[category] = match
  return Object.freeze({
    access: resolved.access,
    required: Object.freeze(required),
    check: resolved.requirements.check !== undefined,
  })
}

/** Per request: each category in order, then `check`; the first failure is thrown. */
function enforce(requirements: Compiled, auth: AuthContext): void {
  for (const { category, match, code, scope } of requirements.matches) {
    if (!satisfies(match, auth[category] ?? EMPTY)) {
      // `required` names only the category that failed, and only what the rule asked for.
      throw new GatehouseError(code, undefined, { scope, required: { [category]: match } })
    }
  }
  if (requirements.check !== undefined) {
    const allowed: unknown = requirements.check(auth)
    if (allowed === true) return
    if (allowed === false) throw new GatehouseError('ERR_POLICY_DENIED')
    throw new TypeError(
      `rule.check: expected a boolean result, got ${allowed === null ? 'null' : typeof allowed} (check must be synchronous)`,
    )
  }
}

/**
 * Validate a rule once and return its evaluator. Method names are upper-cased; unknown options,
 * duplicated methods, empty matches and requirements on optional methods are TypeErrors naming the option.
 *
 * @example
 * ```ts
 * const rule = compileRule({
 *   scopes: 'read:messages',
 *   optional: ['GET'],
 *   methods: { POST: { scopes: ['write:messages'] }, DELETE: { roles: { any: ['admin', 'owner'] } } },
 * })
 * rule.requiresToken('get')   // false
 * rule.authorize(auth, 'POST') // throws ERR_POLICY_SCOPE unless the token has write:messages
 * ```
 */
export function compileRule(rule: AccessRule = {}): CompiledRule {
  if (!isPlainObject(rule))
    throw new TypeError('rule: expected an object such as { scopes: "read:messages" }')
  const base = compileRequirements(rule, 'rule', RULE_KEYS)
  const optional = compileOptional(rule.optional, base)
  const entries = compileMethods(rule.methods, optional)
  headFollowsGet(entries, optional)
  return evaluator(decideAccess(entries, optional, base))
}

/** Which methods let a request without a token through (`rule.optional`). */
interface Optional {
  /** `optional: true`: every method. */
  readonly all: boolean
  /** The methods listed, upper-case. */
  readonly methods: Set<string>
}

/**
 * `rule.optional`: `true` (every method) or a list of methods. With every method optional, the base
 * requirements could always be bypassed by sending no token, so they are refused.
 */
function compileOptional(value: unknown, base: Compiled): Optional {
  const methods = new Set<string>()
  if (value === true) {
    if (!isEmpty(base)) {
      throw new TypeError(
        'rule.optional: every method is optional, so the requirements would be bypassed by sending no token',
      )
    }
    return { all: true, methods }
  }
  if (Array.isArray(value)) {
    for (const [i, method] of value.entries()) methods.add(methodName(method, `rule.optional[${i}]`))
  } else if (value !== undefined && value !== false) {
    throw new TypeError('rule.optional: expected a boolean or an array of HTTP methods')
  }
  return { all: false, methods }
}

/**
 * `rule.methods`: each method's own requirements (which replace the base ones) or `'public'`.
 * Requirements on an optional method are refused: sending no token would bypass them.
 */
function compileMethods(value: unknown, optional: Optional): Map<string, Compiled | 'public'> {
  const entries = new Map<string, Compiled | 'public'>()
  if (value === undefined) return entries
  if (!isPlainObject(value))
    throw new TypeError('rule.methods: expected an object such as { POST: { scopes: "write" } }')
  for (const [key, entry] of Object.entries(value)) {
    if (entry === undefined) continue
    const method = methodName(key, `rule.methods.${key}`)
    if (entries.has(method)) throw new TypeError(`rule.methods.${key}: ${method} is listed twice`)
    if (entry === 'public') {
      entries.set(method, 'public')
      continue
    }
    if (!isPlainObject(entry))
      throw new TypeError(`rule.methods.${key}: expected requirements ({ scopes, roles, ... }) or 'public'`)
    const compiled = compileRequirements(entry, `rule.methods.${key}`, REQUIREMENT_KEYS)
    if ((optional.all || optional.methods.has(method)) && !isEmpty(compiled)) {
      throw new TypeError(
        `rule.methods.${key}: ${method} is optional, so its requirements would be bypassed by sending no token`,
      )
    }
    entries.set(method, compiled)
  }
  return entries
}

/**
 * HEAD takes GET's entry, and GET's place in `optional`, unless HEAD is named itself: a HEAD is a GET
 * without content (RFC 9110 §9.3.2) and must not leak what GET protects.
 */
function headFollowsGet(entries: Map<string, Compiled | 'public'>, optional: Optional): void {
  if (entries.has('HEAD') || optional.methods.has('HEAD')) return
  const get = entries.get('GET')
  if (get !== undefined) entries.set('HEAD', get)
  if (optional.methods.has('GET')) optional.methods.add('HEAD')
}

/** Every method's access and requirements, decided at compile time: a request only looks its method up. */
interface Decisions {
  /** The methods with an entry or listed as optional, upper-case. */
  readonly methods: ReadonlyMap<string, Resolved>
  /** Every other method. */
  readonly fallback: Resolved
}

function decideAccess(
  entries: ReadonlyMap<string, Compiled | 'public'>,
  optional: Optional,
  base: Compiled,
): Decisions {
  const methods = new Map<string, Resolved>()
  for (const method of new Set([...entries.keys(), ...optional.methods])) {
    methods.set(method, decide(entries.get(method), optional.all || optional.methods.has(method), base))
  }
  return { methods, fallback: decide(undefined, optional.all, base) }
}

/**
 * The access decision for one method: `'public'` wins; then optional, which carries no requirements;
 * then the method's own requirements, else the base ones.
 */
function decide(entry: Compiled | 'public' | undefined, isOptional: boolean, base: Compiled): Resolved {
  if (entry === 'public') return { access: 'public', requirements: NOTHING }
  if (isOptional) return { access: 'optional', requirements: NOTHING }
  return { access: 'required', requirements: entry ?? base }
}

/** The effective requirements of each method with a decision of its own, and of every other one. */
function summarizeRule({ methods, fallback }: Decisions): RuleSummary {
  const summaries: Record<string, MethodSummary> = {}
  for (const [method, resolved] of methods) summaries[method] = summarize(resolved)
  return Object.freeze({ default: summarize(fallback), methods: Object.freeze(summaries) })
}

/** The compiled rule. Per request: one map lookup, then {@link enforce}; nothing is allocated. */
function evaluator(decisions: Decisions): CompiledRule {
  const { methods, fallback } = decisions
  const lookup = (method: string): Resolved => {
    if (typeof method !== 'string') throw new TypeError(`method: expected a string, got ${typeof method}`)
    return methods.get(method.toUpperCase()) ?? fallback
  }
  return Object.freeze({
    requiresToken: (method: string) => lookup(method).access === 'required',
    access: (method: string) => lookup(method).access,
    authorize(auth: AuthContext | null | undefined, method: string): void {
      const { access, requirements } = lookup(method)
      if (access !== 'required') return
      if (auth === null || auth === undefined) throw new GatehouseError('ERR_NO_TOKEN')
      enforce(requirements, auth)
    },
    summary: summarizeRule(decisions),
  })
}
