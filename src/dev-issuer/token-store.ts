/**
 * What the dev issuer remembers about the tokens it issued: the claims of its opaque (reference) tokens,
 * and the JWTs revoked before they expire. In memory, bounded: expired entries are dropped, and past
 * `maxEntries` the oldest go first (an evicted opaque token then introspects as inactive, as after a
 * restart).
 */
import { createHash, randomBytes } from 'node:crypto'

/** The claims kept for an opaque token, as introspection returns them (RFC 7662 §2.2). */
export type TokenClaims = Record<string, unknown>

export class TokenStore {
  readonly #maxEntries: number
  readonly #now: () => number
  /** SHA-256 of the token → its claims. A leak of this map (a heap dump, a log) gives no usable token. */
  readonly #opaque = new Map<string, TokenClaims>()
  /** Revocation key of a JWT → its `exp` (seconds), or Infinity for a token without one. */
  readonly #revokedJwts = new Map<string, number>()

  /** `maxEntries` bounds each of the two maps. `now` is a millisecond clock. */
  constructor(maxEntries: number, now: () => number = Date.now) {
    this.#maxEntries = maxEntries
    this.#now = now
  }

  /**
   * A new opaque token for `claims`: 256 random bits, base64url (RFC 6750 §2.1 `b64token` characters), so
   * nothing about the token can be learnt from it and guessing one is hopeless.
   */
  issue(claims: TokenClaims): string {
    const token = randomBytes(32).toString('base64url')
    this.#sweep(this.#opaque, (c) => expiry(c))
    this.#opaque.set(hash(token), claims)
    return token
  }

  /** The claims of an opaque token that is known, not revoked, and valid now (`exp`, `nbf`). */
  lookup(token: string): TokenClaims | undefined {
    const key = hash(token)
    const claims = this.#opaque.get(key)
    if (claims === undefined) return undefined
    const now = this.#seconds()
    // RFC 7519 §4.1.4: expired at `exp` itself.
    if (expiry(claims) <= now) {
      this.#opaque.delete(key)
      return undefined
    }
    // §4.1.5: not active before `nbf`; kept, since it becomes valid later.
    if (typeof claims.nbf === 'number' && claims.nbf > now) return undefined
    return claims
  }

  /** Forget an opaque token: it is inactive at once (RFC 7009 §2.2). */
  revokeOpaque(token: string): void {
    this.#opaque.delete(hash(token))
  }

  /**
   * Remember a JWT as revoked until it expires (after that it is inactive anyway). Keyed by its `jti`, or
   * by the token's hash when it has none.
   */
  revokeJwt(token: string, claims: TokenClaims): void {
    this.#sweep(this.#revokedJwts, (exp) => exp)
    this.#revokedJwts.set(jwtKey(token, claims), expiry(claims))
  }

  isRevokedJwt(token: string, claims: TokenClaims): boolean {
    return this.#revokedJwts.has(jwtKey(token, claims))
  }

  #seconds(): number {
    return Math.floor(this.#now() / 1000)
  }

  /** Make room for one entry: drop the expired ones, then the oldest (maps iterate in insertion order). */
  #sweep<V>(map: Map<string, V>, expiresAt: (value: V) => number): void {
    if (map.size < this.#maxEntries) return
    const now = this.#seconds()
    for (const [key, value] of map) if (expiresAt(value) <= now) map.delete(key)
    for (const key of map.keys()) {
      if (map.size < this.#maxEntries) break
      map.delete(key)
    }
  }
}

/** `exp` in seconds, or Infinity when absent (a forged token without one never expires on its own). */
function expiry(claims: TokenClaims): number {
  return typeof claims.exp === 'number' ? claims.exp : Number.POSITIVE_INFINITY
}

function jwtKey(token: string, claims: TokenClaims): string {
  return typeof claims.jti === 'string' ? `jti:${claims.jti}` : `sha256:${hash(token)}`
}

function hash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url')
}
