/**
 * The matching language of requirements: what a token must hold in one category (scopes, roles,
 * permissions or groups). Comparison is exact string equality, case-sensitive (RFC 6749 §3.3): no
 * prefixes, no wildcards, no hierarchy, so `read:messagesX` never satisfies `read:messages` and `read`
 * never satisfies `read:messages`, nor the other way round.
 *
 * | form                         | meaning                         | axioms-drf-py equivalent            |
 * |------------------------------|---------------------------------|-------------------------------------|
 * | `'a'`                        | holds `a`                       | `access_token_scopes = ['a']`       |
 * | `['a', 'b']`                 | holds `a` AND `b`               | `access_token_all_scopes`           |
 * | `{ any: ['a', 'b'] }`        | holds `a` OR `b`                | `access_token_scopes` (its default) |
 * | `{ all: ['a', 'b'] }`        | holds `a` AND `b`               | `access_token_all_scopes`           |
 * | `{ any: [...], all: [...] }` | one of `any` AND every of `all` | `access_token_any_scopes` + `_all_` |
 *
 * A bare list means ALL, stricter than axioms' OR default: a list reads as a conjunction in Auth0's
 * `requiredScopes('a b')` and in RFC 6750's `scope` attribute, and where sources disagree the
 * stricter reading is the safer one. Mistaking AND for OR denies too much, which is noticed at once;
 * the other mistake grants too much, silently.
 */

/** What a token must hold in one category. See the module comment for the forms. */
export type Match = string | readonly string[] | { any?: readonly string[]; all?: readonly string[] }

/** A validated match: deduplicated, frozen, at least one of `any` / `all` non-empty. */
export interface NormalizedMatch {
  readonly any?: readonly string[]
  readonly all?: readonly string[]
}

function values(list: unknown, option: string, isScope: boolean): readonly string[] {
  if (!Array.isArray(list)) throw new TypeError(`${option}: expected an array of strings, got ${typeof list}`)
  // `[]` as ALL would require nothing (allow everyone) and as ANY would allow no one: both are almost
  // certainly a mistake (an empty config value), so neither silently happens.
  if (list.length === 0) {
    throw new TypeError(
      `${option}: expected at least one value (an empty list would ${option.endsWith('.any') ? 'deny every request' : 'require nothing'})`,
    )
  }
  for (const value of list) {
    if (typeof value !== 'string' || value === '')
      throw new TypeError(`${option}: expected non-empty strings, got ${JSON.stringify(value)}`)
    // A scope token never contains a space (RFC 6749 §3.3): 'read write' was meant as two scopes, and as
    // one it could never match a `scope` claim, which is split on spaces.
    if (isScope && /\s/.test(value)) {
      throw new TypeError(
        `${option}: a scope cannot contain whitespace, got ${JSON.stringify(value)} (list each scope separately)`,
      )
    }
  }
  return Object.freeze([...new Set(list as string[])])
}

/**
 * Validate and normalize a {@link Match}. Duplicates are dropped (they change nothing).
 *
 * @param option the option's name for error messages, e.g. `rule.methods.POST.scopes`
 * @param isScope scopes additionally may not contain whitespace
 * @throws TypeError for empty lists, empty or non-string values, unknown members, or an object with neither `any` nor `all`.
 */
export function normalizeMatch(match: unknown, option: string, isScope = false): NormalizedMatch {
  if (typeof match === 'string') return Object.freeze({ all: values([match], option, isScope) })
  if (Array.isArray(match)) return Object.freeze({ all: values(match, option, isScope) })
  if (typeof match !== 'object' || match === null) {
    throw new TypeError(
      `${option}: expected a string, an array of strings, or { any, all }, got ${match === null ? 'null' : typeof match}`,
    )
  }
  for (const key of Object.keys(match)) {
    if (key !== 'any' && key !== 'all')
      throw new TypeError(`${option}.${key}: unknown member (expected any, all)`)
  }
  const { any, all } = match as { any?: unknown; all?: unknown }
  if (any === undefined && all === undefined)
    throw new TypeError(`${option}: expected { any: [...] }, { all: [...] } or both`)
  const out: { any?: readonly string[]; all?: readonly string[] } = {}
  if (any !== undefined) out.any = values(any, `${option}.any`, isScope)
  if (all !== undefined) out.all = values(all, `${option}.all`, isScope)
  return Object.freeze(out)
}

/** Whether `held` satisfies `match`: every `all` value and, if `any` is given, at least one `any` value. */
export function satisfies(match: NormalizedMatch, held: ReadonlySet<string>): boolean {
  if (match.all !== undefined && !match.all.every((value) => held.has(value))) return false
  if (match.any !== undefined && !match.any.some((value) => held.has(value))) return false
  return true
}

/**
 * The `scope` attribute of the 403 challenge (RFC 6750 §3.1) for a scope match: every scope the match
 * mentions, `all` first, then `any`, once each. A token granted all of them passes, so it is what a
 * client should request. It does not depend on the token: the challenge never reflects what was held.
 */
export function scopeAttribute(match: NormalizedMatch): string {
  return [...new Set([...(match.all ?? []), ...(match.any ?? [])])].join(' ')
}
