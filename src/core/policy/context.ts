/**
 * What policies see of an authenticated request: the verified token, its claim sets as read by the
 * issuer's claim mapping, and the application's principal. Built by the request pipeline (gate.ts) after
 * verification; adapters hand it to handlers.
 */
import type { ClaimSets } from '../claims-reader.js'
import type { JWTClaims, ProtectedHeader } from '../types.js'

/**
 * An authenticated request.
 *
 * `token` is the raw bearer token, for calling downstream APIs on the user's behalf: never log it. The
 * pipeline's implementation leaves it out of `toJSON()`.
 */
export interface AuthContext<C extends JWTClaims = JWTClaims, P = unknown> extends ClaimSets {
  /** The raw access token. Never log it. */
  readonly token: string
  /** The verified claims (frozen). */
  readonly claims: C
  /** The verified protected header. */
  readonly header: ProtectedHeader
  /** What the application's principal hook returned for these claims (seed 004's local user); undefined without one. */
  readonly principal: P
}
