/**
 * What policies see of an authenticated request: the verified token, its claim sets as read by the
 * issuer's claim mapping, and the application's principal. Built by the request pipeline (gate.ts) after
 * verification; adapters hand it to handlers.
 */

import type { JWTClaims, ProtectedHeader } from '../types.js'
import type { ClaimSets } from './claims-reader.js'

/**
 * An authenticated request.
 *
 * `token` is the raw bearer token, for calling downstream APIs on the user's behalf: never log it. The
 * pipeline's implementation leaves it out of `toJSON()` and of `util.inspect` (`console.log`).
 *
 * Type parameters in the order of every Gatehouse type: the principal `P`, then the claims `C`.
 */
export interface AuthContext<P = unknown, C extends JWTClaims = JWTClaims> extends ClaimSets {
  /** The raw access token. Never log it. */
  readonly token: string
  /**
   * The verified claims. Deep-frozen when the verifier's `cache` is on (every request with this token
   * shares them); without the cache, an object of this request's own, not frozen (freezing would cost
   * every request and protect nothing shared).
   */
  readonly claims: C
  /** The verified protected header, deep-frozen (shared by every token with the same header segment). */
  readonly header: ProtectedHeader
  /** What the application's principal hook returned for these claims (e.g. a local user row); undefined without one. */
  readonly principal: P
  /**
   * How the token was presented: `'bearer'` (`Authorization: Bearer`, or a query or form parameter), or
   * `'dpop'` (`Authorization: DPoP` with a valid proof, RFC 9449 §7.1).
   */
  readonly tokenType: 'bearer' | 'dpop'
  /** With DPoP: the RFC 7638 thumbprint of the proof's key, which the token is bound to; else undefined. */
  readonly jkt: string | undefined
  /**
   * With DPoP nonces: a fresh nonce to send as `DPoP-Nonce` with the response, when the proof's was about
   * to expire (RFC 9449 §8.2); the adapters send it. Undefined otherwise.
   */
  readonly dpopNonce: string | undefined
}
