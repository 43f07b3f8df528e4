/**
 * Where a claim lives in a token's payload. Providers nest roles (`realm_access.roles` in Keycloak) and
 * namespace custom claims with URLs full of dots (`https://example.com/roles` in Auth0), so a dotted
 * string cannot say both. Three forms, each unambiguous:
 *
 * | form                                    | reads                                  |
 * |-----------------------------------------|----------------------------------------|
 * | `'roles'`, `'https://example.com/roles'`| the top-level claim of exactly that name (dots, colons and slashes are part of the name) |
 * | `['realm_access', 'roles']`             | a nested member, one array item per level, names verbatim |
 * | `'/realm_access/roles'`                 | the same, written as a JSON Pointer (RFC 6901) for env vars and config files |
 *
 * The pointer form is chosen only by a leading `/`; inside it `~1` stands for `/` and `~0` for `~`
 * (RFC 6901 §3), so `'/https:~1~1example.com~1roles'` is the namespaced claim again, and
 * `'/resource_access/my-client/roles'` is Keycloak's client roles. A claim whose name itself starts with
 * `/` is written `['/name']` or `'/~1name'`.
 *
 * Not supported, on purpose: array indices (a role list is read whole, never item by item), wildcards,
 * and empty names (a segment `''` is always a typo: `'//roles'`, `'/roles/'`).
 */
import type { JWTClaims } from '../types.js'

/** A top-level claim name, a nested path as an array of names, or a JSON Pointer string starting with `/`. */
export type ClaimPath = string | readonly string[]

/**
 * The names along a claim path, one per level.
 *
 * @throws TypeError naming `option` when the path is not one of the three forms (empty name, bad `~` escape).
 * @example parseClaimPath('/resource_access/my-client/roles') // ['resource_access', 'my-client', 'roles']
 */
export function parseClaimPath(path: ClaimPath, option = 'claim path'): readonly string[] {
  if (typeof path === 'string') {
    if (path === '')
      throw new TypeError(
        `${option}: expected a claim name or a JSON Pointer such as "/realm_access/roles", got ""`,
      )
    if (!path.startsWith('/')) return [path]
    return path
      .slice(1)
      .split('/')
      .map((segment) => {
        if (segment === '')
          throw new TypeError(`${option}: empty name in JSON Pointer ${JSON.stringify(path)}`)
        // RFC 6901 §4: `~1` first, then `~0`, so that `~01` decodes to `~1` and not to `/`.
        if (/~(?![01])/.test(segment)) {
          throw new TypeError(
            `${option}: "~" must be written "~0" (and "/" as "~1") in JSON Pointer ${JSON.stringify(path)}`,
          )
        }
        return segment.replaceAll('~1', '/').replaceAll('~0', '~')
      })
  }
  if (Array.isArray(path)) {
    if (path.length === 0) throw new TypeError(`${option}: expected at least one claim name, got []`)
    for (const segment of path) {
      if (typeof segment !== 'string' || segment === '') {
        throw new TypeError(`${option}: expected non-empty claim names in ${JSON.stringify(path)}`)
      }
    }
    return Object.freeze([...path])
  }
  throw new TypeError(
    `${option}: expected a claim name, an array of claim names or a JSON Pointer, got ${typeof path}`,
  )
}

/**
 * A path in the form a person reads it back: the plain name for a top-level claim, else the JSON
 * Pointer. Used in 403 bodies (`required.owner.claim`) and docs.
 */
export function formatClaimPath(path: ClaimPath): string {
  const segments = parseClaimPath(path)
  if (segments.length === 1 && !segments[0]!.startsWith('/')) return segments[0]!
  return segments.map((segment) => `/${segment.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('')
}

/** Follow already parsed segments. Own members of plain objects only. */
export function readSegments(claims: unknown, segments: readonly string[]): unknown {
  let value: unknown = claims
  for (const segment of segments) {
    // Arrays are not traversed (no indices) and nothing is read from a prototype: `__proto__`,
    // `constructor` or `toString` are claims only when the token itself carries them.
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    if (!Object.hasOwn(value, segment)) return undefined
    value = (value as Record<string, unknown>)[segment]
  }
  return value
}

/**
 * The value at `path` in `claims`, or undefined when any level is missing or is not an object. Reads
 * own properties only: no prototype walk, so `'__proto__'` or `'toString'` never yields anything the
 * token did not carry.
 *
 * Does NOT check the value's type: the caller decides what it expects.
 *
 * @throws TypeError when `path` itself is malformed (a programming error, never the token's fault).
 * @example
 * readClaim(claims, 'https://example.com/roles')         // the namespaced claim
 * readClaim(claims, ['resource_access', 'api', 'roles'])  // Keycloak client roles
 * readClaim(claims, '/realm_access/roles')                // Keycloak realm roles, pointer form
 */
export function readClaim(claims: JWTClaims, path: ClaimPath): unknown {
  return readSegments(claims, parseClaimPath(path))
}
