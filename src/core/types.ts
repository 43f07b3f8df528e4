/** Shared types of the core. No logic here. */

/** Asymmetric JWS algorithms Gatehouse can verify (RFC 7518 §3, RFC 8037). `none` and HS* never appear. */
export type Algorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'

export const ALL_ALGORITHMS: readonly Algorithm[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
])

/** The JOSE protected header of a verified token (RFC 7515 §4). */
export interface ProtectedHeader {
  alg: Algorithm
  kid?: string
  typ?: string
  crit?: string[]
  [member: string]: unknown
}

/** Registered claims of a JWT access token (RFC 7519 §4.1, RFC 9068 §2.2), plus anything else. */
export interface JWTClaims {
  iss?: string
  sub?: string
  aud?: string | string[]
  exp?: number
  nbf?: number
  iat?: number
  jti?: string
  client_id?: string
  scope?: string
  [claim: string]: unknown
}

/** What a successful verification returns. */
export interface VerifiedToken<C extends JWTClaims = JWTClaims> {
  /** The token's claims, after every check passed. */
  claims: C
  /** The protected header. */
  header: ProtectedHeader
}

/** A JSON Web Key as found in a JWKS document (RFC 7517 §4). Only public members are read. */
export interface JWK {
  kty: string
  kid?: string
  use?: string
  key_ops?: string[]
  alg?: string
  crv?: string
  n?: string
  e?: string
  x?: string
  y?: string
  [member: string]: unknown
}

/** A JWK Set document (RFC 7517 §5). */
export interface JWKS {
  keys: JWK[]
}

/** A public key ready for signature checks. `handle` is a Node KeyObject or a WebCrypto CryptoKey. */
export interface VerificationKey {
  /** The JWK's `kid`, if any. */
  readonly kid: string | undefined
  /** The imported key; its type belongs to the crypto module in use. */
  readonly handle: unknown
  /** The algorithm this key was imported for (WebCrypto keys are bound to one). */
  readonly alg: Algorithm
}

/** How fresh the keys of a key store are. */
export type KeyStoreState = 'empty' | 'fetching' | 'fresh' | 'stale' | 'cooling-down' | 'unavailable'

/** Events a key store reports, for logs and metrics. Never contain key material beyond `kid`s. */
export type KeyStoreEvent =
  | { type: 'fetch'; url: string; reason: 'initial' | 'refresh' | 'unknown-kid' }
  | { type: 'fetch-success'; url: string; keyCount: number; durationMs: number }
  | { type: 'fetch-error'; url: string; error: Error; durationMs: number; servingStale: boolean }
  | { type: 'keys-changed'; added: string[]; removed: string[] }
  | { type: 'cooldown'; kid: string | undefined; retryInMs: number }

/**
 * Where keys come from: a local set (keys in code) or a remote JWKS. The verifier only needs this.
 *
 * `peek` is the synchronous fast path used on every request; `get` may fetch.
 */
export interface KeyStore {
  /** A key for this header from what is already loaded, or undefined when a fetch may help. Throws a GatehouseError when the loaded set is conclusive (no match after a fresh fetch, several matches). */
  peek(header: ProtectedHeader): VerificationKey | undefined
  /** A key for this header, fetching if needed. Rejects with a GatehouseError. */
  get(header: ProtectedHeader): Promise<VerificationKey>
  /** Whether `key` is still in the current set (the verified-token cache drops entries whose key left). */
  contains(key: VerificationKey): boolean
  /** Current state, see {@link KeyStoreState}. */
  readonly state: KeyStoreState
  /** Stop background work (timers). Idempotent. */
  close(): void
}
