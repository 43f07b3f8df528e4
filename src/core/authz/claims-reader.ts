/**
 * Reads scopes, roles, permissions and groups out of verified claims. Every provider keeps them
 * elsewhere (see docs/presets.md); the mapping says where, and policies only ever see the sets.
 *
 * Defaults:
 * - scopes: `scope`, then `scp`. `scope` is one space-delimited string (RFC 9068 §2.2.3, RFC 8693 §4.2);
 *   `scp` is a space-delimited string (Entra) or an array (Okta).
 * - roles: `roles` · permissions: `permissions` (Auth0 RBAC) · groups: `groups`.
 *
 * Several paths for one category are a priority order: the first claim that is present (not undefined,
 * not null) is the only one read, even when its value is unusable. They are never merged, because two
 * claims with the same kind of name rarely mean the same thing: a realm role `admin` and a client role
 * `admin`, or a provider's `roles` and a custom claim a user can edit. Merging would let the weaker
 * source grant what the stronger one did not; a fixed order keeps one source of truth per token.
 */

import { isPlainObject } from '../lib/values.js'
import type { JWTClaims } from '../types.js'
import { type ClaimPath, parseClaimPath, readSegments } from './claim-path.js'

/** Where each category is read from: claim paths in priority order (first present wins). */
export interface ClaimMapping {
  /** Default `['scope', 'scp']`. A string value is split on spaces; an array is taken item by item. */
  scopes?: readonly ClaimPath[]
  /** Default `['roles']`. */
  roles?: readonly ClaimPath[]
  /** Default `['permissions']`. */
  permissions?: readonly ClaimPath[]
  /** Default `['groups']`. */
  groups?: readonly ClaimPath[]
}

/** What a token grants, as sets of exact strings. */
export interface ClaimSets {
  scopes: ReadonlySet<string>
  roles: ReadonlySet<string>
  permissions: ReadonlySet<string>
  groups: ReadonlySet<string>
}

type Category = keyof ClaimSets

const CATEGORIES: readonly Category[] = ['scopes', 'roles', 'permissions', 'groups']

/** The mapping used for every category the caller leaves out. */
export const DEFAULT_CLAIM_MAPPING: Readonly<Required<ClaimMapping>> = Object.freeze({
  scopes: Object.freeze(['scope', 'scp']),
  roles: Object.freeze(['roles']),
  permissions: Object.freeze(['permissions']),
  groups: Object.freeze(['groups']),
})

/**
 * The strings a claim value contributes. Non-string array members and empty strings are ignored: a
 * malformed member grants nothing, and it does not spoil its well-formed neighbours either.
 *
 * - scopes: a string is split on spaces (RFC 6749 §3.3: scope tokens never contain one);
 * - roles, permissions, groups: a string is ONE value (Keycloak group paths and Entra display names may
 *   contain spaces, so splitting would turn the group `Sales Team` into `Sales` and `Team`);
 * - roles, permissions, groups: an object whose members are all objects contributes its member names.
 *   That is ZITADEL's role claim, `{ "admin": { "<orgId>": "<orgDomain>" } }`. Objects of any other
 *   shape (Keycloak's `realm_access`, which holds an array) contribute nothing.
 */
function valuesOf(value: unknown, category: Category, into: Set<string>): void {
  if (typeof value === 'string') {
    if (category === 'scopes') {
      for (const token of value.split(' ')) if (token !== '') into.add(token)
    } else if (value !== '') {
      into.add(value)
    }
    return
  }
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'string' && item !== '') into.add(item)
    return
  }
  if (category !== 'scopes' && isPlainObject(value)) {
    const names = Object.keys(value)
    if (names.length > 0 && names.every((name) => isPlainObject(value[name])))
      for (const name of names) into.add(name)
  }
}

function validate(mapping: unknown): Record<Category, (readonly string[])[]> {
  if (mapping !== undefined && !isPlainObject(mapping)) {
    throw new TypeError(
      `claims: expected an object such as { roles: [['realm_access', 'roles']] }, got ${typeof mapping}`,
    )
  }
  const given = (mapping ?? {}) as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(CATEGORIES as readonly string[]).includes(key)) {
      throw new TypeError(`claims.${key}: unknown category (expected ${CATEGORIES.join(', ')})`)
    }
  }
  const out = {} as Record<Category, (readonly string[])[]>
  for (const category of CATEGORIES) {
    const paths = given[category] ?? DEFAULT_CLAIM_MAPPING[category]
    if (!Array.isArray(paths) || paths.length === 0) {
      throw new TypeError(
        `claims.${category}: expected a non-empty array of claim paths, e.g. ['roles'] or [['realm_access', 'roles']]` +
          (typeof paths === 'string' ? ` (wrap the string in an array: [${JSON.stringify(paths)}])` : ''),
      )
    }
    out[category] = paths.map((path, i) => parseClaimPath(path as ClaimPath, `claims.${category}[${i}]`))
  }
  return out
}

/**
 * Build a reader for one provider's claim layout. The mapping is validated here, once.
 *
 * The reader never throws and never trusts types: a claim of the wrong shape yields an empty set, so a
 * policy that needs something from it denies.
 *
 * @throws TypeError naming the option (`claims.roles[0]`) when the mapping is malformed.
 * @example
 * const read = createClaimsReader({ roles: [['realm_access', 'roles']] })
 * read(claims).roles.has('admin')
 */
export function createClaimsReader(mapping?: ClaimMapping): (claims: JWTClaims) => ClaimSets {
  const paths = validate(mapping)
  const read = (claims: JWTClaims, category: Category): Set<string> => {
    const into = new Set<string>()
    for (const segments of paths[category]) {
      const value = readSegments(claims, segments)
      if (value === undefined || value === null) continue
      valuesOf(value, category, into)
      break
    }
    return into
  }
  return (claims) => ({
    scopes: read(claims, 'scopes'),
    roles: read(claims, 'roles'),
    permissions: read(claims, 'permissions'),
    groups: read(claims, 'groups'),
  })
}
