/**
 * One error type for everything a client or a provider can cause. Each code carries its HTTP meaning as
 * data (RFC 6750 §3.1), so adapters render it without deciding anything.
 *
 * Messages never contain the token or any secret: they name the check that failed. The detail for logs
 * (what the provider answered, which claim value was seen) goes in `cause`.
 */

/** The RFC 6750 §3.1 error codes, plus `undefined` when the request carried no token at all. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope'

/** The RFC 9449 §7.1 and §9 error codes of the DPoP scheme: a faulty proof, or a nonce to use. */
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce'

interface CodeInfo {
  status: 400 | 401 | 403 | 503
  error: BearerErrorCode | DpopErrorCode | undefined
  /** Default description, safe to show a client. */
  description: string
}

const codes = {
  // ── the request ────────────────────────────────────────────────────────────────────────────────
  /** No bearer token in the request (RFC 6750 §3.1: no error code in the challenge). */
  ERR_NO_TOKEN: { status: 401, error: undefined, description: 'Missing or invalid Authorization header' },
  /** A malformed Authorization header, several credentials, or a token sent more than one way (RFC 6750 §2). */
  ERR_INVALID_REQUEST: { status: 400, error: 'invalid_request', description: 'Malformed bearer credentials' },

  // ── the token ──────────────────────────────────────────────────────────────────────────────────
  ERR_JWT_MALFORMED: { status: 401, error: 'invalid_token', description: 'Token is not a well-formed JWT' },
  ERR_JWT_HEADER_INVALID: { status: 401, error: 'invalid_token', description: 'Token header is invalid' },
  ERR_JWT_ALG_NOT_ALLOWED: {
    status: 401,
    error: 'invalid_token',
    description: 'Token algorithm is not allowed',
  },
  ERR_JWT_TYP_INVALID: { status: 401, error: 'invalid_token', description: 'Token type is not allowed' },
  ERR_JWKS_NO_MATCHING_KEY: {
    status: 401,
    error: 'invalid_token',
    description: 'No key in the key set matches the token',
  },
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: {
    status: 401,
    error: 'invalid_token',
    description: 'Several keys in the key set match a token without "kid"',
  },
  ERR_JWS_SIGNATURE_INVALID: {
    status: 401,
    error: 'invalid_token',
    description: 'Token signature is invalid',
  },
  ERR_JWT_ISSUER_INVALID: { status: 401, error: 'invalid_token', description: 'Token issuer is not trusted' },
  ERR_JWT_AUDIENCE_INVALID: {
    status: 401,
    error: 'invalid_token',
    description: 'Token audience is not accepted',
  },
  ERR_JWT_EXPIRED: { status: 401, error: 'invalid_token', description: 'Token has expired' },
  ERR_JWT_NOT_YET_VALID: { status: 401, error: 'invalid_token', description: 'Token is not yet valid' },
  ERR_JWT_TOO_OLD: { status: 401, error: 'invalid_token', description: 'Token is too old' },
  ERR_JWT_CLAIM_MISSING: { status: 401, error: 'invalid_token', description: 'Token lacks a required claim' },
  ERR_JWT_CLAIM_INVALID: { status: 401, error: 'invalid_token', description: 'Token has an invalid claim' },
  /** Not a token at all: empty, or longer than the introspector's `maxTokenLength`. */
  ERR_TOKEN_MALFORMED: { status: 401, error: 'invalid_token', description: 'Token is malformed' },
  /** The authorization server's introspection endpoint answered `active: false` (RFC 7662 §2.2). */
  ERR_TOKEN_INACTIVE: { status: 401, error: 'invalid_token', description: 'Token is not active' },
  /** An ID token (or another kind of token) presented where an access token is required. */
  ERR_JWT_NOT_ACCESS_TOKEN: {
    status: 401,
    error: 'invalid_token',
    description: 'Token is not an access token',
  },

  // ── the DPoP proof (RFC 9449 §4.3): invalid_dpop_proof; a missing or stale nonce: use_dpop_nonce ───
  /** The request uses DPoP but carries no `DPoP` header. */
  ERR_DPOP_PROOF_MISSING: { status: 401, error: 'invalid_dpop_proof', description: 'DPoP proof is missing' },
  /** More than one `DPoP` header field, or several proofs in one (RFC 9449 §4.3 check 1). */
  ERR_DPOP_PROOF_MULTIPLE: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'More than one DPoP proof',
  },
  /** Not a compact JWS with JSON header and claims, or a required claim missing or of the wrong type. */
  ERR_DPOP_PROOF_MALFORMED: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof is not a well-formed JWT',
  },
  ERR_DPOP_PROOF_TYP_INVALID: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof typ is not dpop+jwt',
  },
  ERR_DPOP_PROOF_ALG_NOT_ALLOWED: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof algorithm is not allowed',
  },
  /** The `jwk` header is missing, holds a private or symmetric key, or a key unusable with `alg`. */
  ERR_DPOP_PROOF_KEY_INVALID: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof jwk is not an acceptable public key',
  },
  ERR_DPOP_PROOF_SIGNATURE_INVALID: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof signature is invalid',
  },
  ERR_DPOP_PROOF_HTM_MISMATCH: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof htm does not match the request method',
  },
  ERR_DPOP_PROOF_HTU_MISMATCH: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof htu does not match the request URL',
  },
  ERR_DPOP_PROOF_TOO_OLD: { status: 401, error: 'invalid_dpop_proof', description: 'DPoP proof is too old' },
  ERR_DPOP_PROOF_NOT_YET_VALID: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof iat is in the future',
  },
  ERR_DPOP_PROOF_REPLAYED: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof was already used',
  },
  /** `ath` missing or not the hash of the presented access token: a proof made for another token. */
  ERR_DPOP_PROOF_ATH_MISMATCH: {
    status: 401,
    error: 'invalid_dpop_proof',
    description: 'DPoP proof ath does not match the access token',
  },
  /**
   * The token is not bound to the proof's key: its `cnf.jkt` is another key's thumbprint, or it has none
   * (RFC 9449 §6.1, §7.1: `invalid_token`, the token is what cannot be used with this key).
   */
  ERR_DPOP_BINDING_MISMATCH: { status: 401, error: 'invalid_token', description: 'Invalid DPoP key binding' },
  /** Nonces are required and the proof has none (RFC 9449 §9); the error carries one in `dpopNonce`. */
  ERR_DPOP_NONCE_MISSING: {
    status: 401,
    error: 'use_dpop_nonce',
    description: 'Resource server requires nonce in DPoP proof',
  },
  /** The proof's nonce is not one this server issued, or is too old; the error carries a fresh one. */
  ERR_DPOP_NONCE_INVALID: {
    status: 401,
    error: 'use_dpop_nonce',
    description: 'DPoP proof nonce is invalid or expired',
  },

  // ── how the token was presented (RFC 9449 §7): the token is fine, the scheme is not ─────────────
  /** The issuer's `dpop` mode is `required` and the token came as Bearer (RFC 9449 §7.2). */
  ERR_DPOP_REQUIRED: {
    status: 401,
    error: 'invalid_token',
    description: 'This resource requires a DPoP-bound token presented with the DPoP scheme',
  },
  /** A DPoP-bound token (`cnf.jkt`) presented as Bearer: without its proof it is refused (RFC 9449 §7.2). */
  ERR_DPOP_BOUND_TOKEN_AS_BEARER: {
    status: 401,
    error: 'invalid_token',
    description: 'DPoP-bound token presented as a bearer token',
  },
  /** The token came with the DPoP scheme from an issuer whose `dpop` mode is `off`. */
  ERR_DPOP_NOT_ALLOWED: {
    status: 401,
    error: 'invalid_token',
    description: 'The DPoP scheme is not accepted for this token',
  },

  // ── the provider: the client's token is not at fault, so 503 and no invalid_token ─────────────────
  ERR_JWKS_UNAVAILABLE: {
    status: 503,
    error: undefined,
    description: 'The signing keys are temporarily unavailable',
  },
  ERR_JWKS_FETCH_FAILED: { status: 503, error: undefined, description: 'Fetching the key set failed' },
  ERR_JWKS_TIMEOUT: { status: 503, error: undefined, description: 'Fetching the key set timed out' },
  ERR_JWKS_INVALID: { status: 503, error: undefined, description: 'The key set document is invalid' },
  ERR_JWKS_TOO_LARGE: { status: 503, error: undefined, description: 'The key set document is too large' },
  ERR_DISCOVERY_FAILED: {
    status: 503,
    error: undefined,
    description: 'Reading the authorization server metadata failed',
  },
  /**
   * The introspection endpoint could not be asked: unreachable, not a 200, a redirect, or its circuit
   * breaker open after repeated failures (requests are refused at once until the cool-down ends).
   */
  ERR_INTROSPECTION_UNAVAILABLE: {
    status: 503,
    error: undefined,
    description: 'Token introspection is temporarily unavailable',
  },
  ERR_INTROSPECTION_TIMEOUT: { status: 503, error: undefined, description: 'Token introspection timed out' },
  /**
   * The introspection endpoint answered something that is not an introspection response: not JSON, not
   * an object, no boolean `active`, a member of the wrong type, too large, or a signed response (RFC 9701)
   * that fails its checks.
   */
  ERR_INTROSPECTION_INVALID: {
    status: 503,
    error: undefined,
    description: 'The token introspection response is invalid',
  },
  /**
   * The shared store (Redis) did not answer within its `timeoutDuration`, or is unreachable: a replay
   * check could not be made, so the proof is not accepted; the client may retry.
   */
  ERR_STORE_UNAVAILABLE: {
    status: 503,
    error: undefined,
    description: 'The shared store is temporarily unavailable',
  },

  // ── authorization (policies) ───────────────────────────────────────────────────────────────────
  ERR_POLICY_SCOPE: { status: 403, error: 'insufficient_scope', description: 'Insufficient scope' },
  ERR_POLICY_ROLE: { status: 403, error: 'insufficient_scope', description: 'Insufficient role' },
  ERR_POLICY_PERMISSION: { status: 403, error: 'insufficient_scope', description: 'Insufficient permission' },
  ERR_POLICY_GROUP: {
    status: 403,
    error: 'insufficient_scope',
    description: 'Insufficient group membership',
  },
  ERR_POLICY_OWNER: { status: 403, error: 'insufficient_scope', description: 'Only the owner may do this' },
  ERR_POLICY_DENIED: { status: 403, error: 'insufficient_scope', description: 'Access denied' },
} as const satisfies Record<string, CodeInfo>

/** Every stable error code. `switch (err.code)` narrows on it. */
export type ErrorCode = keyof typeof codes

/** What a policy required, shown in 403 bodies (never what the token held). */
export interface RequirementSummary {
  scopes?: { any?: readonly string[]; all?: readonly string[] }
  roles?: { any?: readonly string[]; all?: readonly string[] }
  permissions?: { any?: readonly string[]; all?: readonly string[] }
  groups?: { any?: readonly string[]; all?: readonly string[] }
  owner?: { claim: string }
}

export interface GatehouseErrorOptions {
  /** Detail for logs: never shown to the client. */
  cause?: unknown
  /** Space-separated scopes the resource needs (RFC 6750 §3, `scope` attribute of the challenge). */
  scope?: string
  /** What a policy required, for 403 bodies. */
  required?: RequirementSummary
  /** A fresh DPoP nonce for the `DPoP-Nonce` response header (RFC 9449 §8, §9), with `use_dpop_nonce`. */
  dpopNonce?: string
}

/**
 * The `cause` of a token refused by one of the verifier's checks, for server logs: what was checked,
 * what the token held and what the configuration accepts. Never the token itself; long strings and
 * lists are cut (see {@link forLog}).
 *
 * @example { claim: 'iss', received: 'https://other.example.com/', expected: ['https://tenant.example.com/'] }
 */
export interface CheckCause {
  /** The header member checked: `alg`, `typ`, `kid`. */
  header?: string
  /** The claim checked: `iss`, `aud`, `exp`, `nbf`, `iat`, … */
  claim?: string
  /** What the token held; absent when the member was missing. */
  received?: unknown
  /** What is accepted: the configured issuers, audiences, algorithms or types. */
  expected?: unknown
  /** Seconds since the epoch, for time claims. */
  now?: number
  /** Seconds, for time claims. */
  clockTolerance?: number
  /** Seconds, for `iat` checked against `maxTokenAge`. */
  maxTokenAge?: number
  /** The token's `alg`, for key lookups and signatures. */
  alg?: string
  /** Why, when the code alone does not say (`"is not a number"`). */
  reason?: string
  /** The underlying failure (a key store's own cause). */
  cause?: unknown
}

const LOG_STRING = 200
const LOG_ITEMS = 20

/**
 * A value from a token, bounded for a log line: strings cut at 200 characters, arrays at 20 items,
 * objects and nested arrays named by their kind only. A client must not write kilobytes into a log.
 */
export function forLog(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.slice(0, LOG_ITEMS).map(scalarForLog)
    return value.length > LOG_ITEMS ? [...items, `… ${value.length - LOG_ITEMS} more`] : items
  }
  return scalarForLog(value)
}

function scalarForLog(value: unknown): unknown {
  if (typeof value === 'string') return value.length > LOG_STRING ? `${value.slice(0, LOG_STRING)}…` : value
  if (Array.isArray(value)) return '(array)'
  if (typeof value === 'object' && value !== null) return '(object)'
  return value
}

/**
 * The one error Gatehouse throws for anything a request or a provider can cause.
 *
 * @example
 * ```ts
 * try { await verifier.verify(token) } catch (err) {
 *   if (err instanceof GatehouseError && err.code === 'ERR_JWT_EXPIRED') { ... }
 * }
 * ```
 */
export class GatehouseError extends Error {
  override readonly name = 'GatehouseError'
  /** Stable code, see {@link ErrorCode}. */
  readonly code: ErrorCode
  /** The HTTP status this failure maps to. */
  readonly status: 400 | 401 | 403 | 503
  /**
   * The RFC 6750 (or RFC 9449 §7.1) `error` attribute, or undefined when none applies (no token,
   * provider failures).
   */
  readonly error: BearerErrorCode | DpopErrorCode | undefined
  /** A description safe to show a client (no token content, no provider detail). */
  readonly description: string
  /** Required scopes for `insufficient_scope`, space-separated. */
  readonly scope: string | undefined
  /** What a policy required. */
  readonly required: RequirementSummary | undefined
  /** The nonce to send in `DPoP-Nonce` (RFC 9449 §8, §9), or undefined. Not a secret: any client may have one. */
  readonly dpopNonce: string | undefined

  constructor(code: ErrorCode, description?: string, options: GatehouseErrorOptions = {}) {
    const info: CodeInfo = codes[code]
    super(description ?? info.description, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.status = info.status
    this.error = info.error
    this.description = description ?? info.description
    this.scope = options.scope
    this.required = options.required
    this.dpopNonce = options.dpopNonce
  }
}

export function isGatehouseError(value: unknown): value is GatehouseError {
  return value instanceof GatehouseError
}

/** The default description of a code (for docs and the CLI). */
export function describeCode(code: ErrorCode): string {
  return codes[code].description
}

/** All codes with their HTTP meaning, for documentation and table-driven tests. */
export const errorCodes: Readonly<Record<ErrorCode, Readonly<CodeInfo>>> = codes
