/**
 * Object-level checks (axioms-drf-py's `IsSubOwner` / `IsSubOwnerOrSafeOnly`): the application loads
 * the object, then asserts that the caller owns it. A rule cannot do this: ownership lives in the
 * application's data, not in the token.
 *
 * Comparison is exact string equality between a claim (default `sub`, RFC 7519 §4.1.2) and the owner
 * value the application passes. Anything else denies: a missing or non-string claim, a missing, empty or
 * non-string owner. Convert numeric ids with `String(id)` yourself, so that `1` and `'01'` never compare
 * equal by accident.
 *
 * What it does NOT check: that `sub` is unique beyond one issuer (with several trusted issuers, store
 * `iss` with the owner, or pass a claim path that is unique), or anything about the token's scopes.
 */

import { GatehouseError } from '../errors.js'
import { type ClaimPath, formatClaimPath, readClaim } from './claim-path.js'
import type { AuthContext } from './context.js'

export interface OwnerOptions {
  /** The claim that identifies the caller. Default `'sub'`. Any {@link ClaimPath}. */
  claim?: ClaimPath
}

/** RFC 9110 §9.2.1 safe methods, which axioms' owner-or-read-only lets any authenticated user call. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Throw 403 `ERR_POLICY_OWNER` unless the caller's claim equals `owner`.
 *
 * @param owner the object's owner id as stored by the application (e.g. `post.authorSub`)
 * @throws GatehouseError `ERR_POLICY_OWNER` (403), whose `required` names the claim, never its value.
 * @throws TypeError when `options.claim` is malformed.
 * @example
 * const post = await db.posts.find(id)
 * assertOwner(auth, post.authorSub)
 */
export function assertOwner(auth: AuthContext, owner: unknown, options: OwnerOptions = {}): void {
  const claim = options.claim ?? 'sub'
  const value = readClaim(auth.claims, claim)
  if (typeof owner === 'string' && owner !== '' && typeof value === 'string' && value === owner) return
  throw new GatehouseError('ERR_POLICY_OWNER', undefined, {
    required: { owner: { claim: formatClaimPath(claim) } },
  })
}

/**
 * Safe methods (GET, HEAD, OPTIONS) pass for any authenticated caller; other methods need
 * {@link assertOwner}. The method is compared case-insensitively.
 *
 * @example assertOwnerOrReadOnly(auth, post.authorSub, request.method)
 */
export function assertOwnerOrReadOnly(
  auth: AuthContext,
  owner: unknown,
  method: string,
  options: OwnerOptions = {},
): void {
  if (typeof method !== 'string') throw new TypeError(`method: expected a string, got ${typeof method}`)
  if (SAFE_METHODS.has(method.toUpperCase())) return
  assertOwner(auth, owner, options)
}
