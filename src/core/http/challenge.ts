/**
 * The one `WWW-Authenticate` builder (RFC 6750 §3, RFC 7235 §4.1) and the one error response shape.
 * Adapters render what `errorResponse` returns (through `gate.reject`, which adds the gate's `realm` and
 * reports to `onRejection`); they never build a challenge or a body themselves.
 */
import type { ErrorCode, GatehouseError, RequirementSummary } from '../errors.js'

export interface ChallengeParams {
  realm?: string
  /** DPoP challenges only (RFC 9449 §7.1): the accepted proof algorithms, space-separated. */
  algs?: string
  /** The URL of the resource's Protected Resource Metadata (RFC 9728 §5.1). */
  resource_metadata?: string
  error?: string
  error_description?: string
  error_uri?: string
  scope?: string
}

/** RFC 6750 §3: error and error_description allow %x20-21 / %x23-5B / %x5D-7E only (no `"` or `\`). */
const unsafeInDescription = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g
/** RFC 6750 §3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
const scopeToken = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** RFC 7230 §3.2.6 quoted-string; control characters (CR, LF: header injection) and non-ASCII are dropped. */
function quoted(value: string): string {
  const visible = value.replace(/[^\x20-\x7e]/g, '')
  return `"${visible.replace(/["\\]/g, (c) => `\\${c}`)}"`
}

/**
 * Build a Bearer challenge. With no parameters it is the bare `Bearer` that RFC 6750 §3.1 asks for when
 * the request carried no token.
 *
 * @example formatChallenge({ error: 'insufficient_scope', scope: 'read:messages' })
 *   // 'Bearer error="insufficient_scope", scope="read:messages"'
 */
export function formatChallenge(params: ChallengeParams = {}, scheme: 'Bearer' | 'DPoP' = 'Bearer'): string {
  const attributes: string[] = []
  if (params.realm !== undefined) attributes.push(`realm=${quoted(params.realm)}`)
  if (params.error !== undefined)
    attributes.push(`error=${quoted(params.error.replace(unsafeInDescription, ''))}`)
  if (params.error_description !== undefined) {
    attributes.push(`error_description=${quoted(params.error_description.replace(unsafeInDescription, ''))}`)
  }
  if (params.error_uri !== undefined) attributes.push(`error_uri=${quoted(params.error_uri)}`)
  if (params.scope !== undefined) {
    const tokens = params.scope.split(' ').filter((token) => scopeToken.test(token))
    if (tokens.length > 0) attributes.push(`scope=${quoted(tokens.join(' '))}`)
  }
  if (params.algs !== undefined) attributes.push(`algs=${quoted(params.algs)}`)
  if (params.resource_metadata !== undefined)
    attributes.push(`resource_metadata=${quoted(params.resource_metadata)}`)
  return attributes.length === 0 ? scheme : `${scheme} ${attributes.join(', ')}`
}

/** The JSON body of every Gatehouse 4xx/5xx response. */
export interface ErrorBody {
  /** RFC 6750 error code; `unauthorized` when no token was sent; `temporarily_unavailable` for 503. */
  error: string
  /** Safe for clients: names the failed check, never the token. */
  error_description: string
  /** Stable Gatehouse code, e.g. ERR_JWT_EXPIRED. */
  code: ErrorCode
  /** 403 only: what the resource required. */
  required?: RequirementSummary
}

/** A refusal's HTTP response as data (what `errorResponse` and `gate.reject` return); adapters send it. */
export interface ErrorResponse {
  status: 400 | 401 | 403 | 503
  headers: Record<string, string>
  body: ErrorBody
}

/** Options of {@link errorResponse}. */
export interface ErrorResponseOptions {
  /** `realm` of the challenge. Default: none. */
  realm?: string
  /**
   * Offer a DPoP challenge (RFC 9449 §7.1) with these proof algorithms as `algs`. Default: none (a
   * Bearer challenge only).
   */
  dpopAlgorithms?: readonly string[]
  /** Offer a Bearer challenge. Default true; false where only DPoP is accepted (RFC 9449 §7.2). */
  bearer?: boolean
  /**
   * The scheme the refused request used, whose challenge carries the `error` attributes. Default: DPoP
   * for a proof's fault (`invalid_dpop_proof`, `use_dpop_nonce`) or when no Bearer challenge is offered,
   * Bearer otherwise.
   */
  scheme?: 'bearer' | 'dpop'
  /** The Protected Resource Metadata URL every challenge names (RFC 9728 §5.1). Default: none. */
  resourceMetadata?: string
}

/**
 * The HTTP response for a GatehouseError, as data: status, headers (`WWW-Authenticate` for 400/401/403,
 * `Cache-Control: no-store`) and the JSON body. 503 carries `Retry-After` and no challenge: the
 * client's token is not at fault. It reports nothing: `gate.reject(error, request)` is the same answer
 * with the gate's `realm`, reported to `onRejection` first. It is not a Web `Response`
 * (`errorToResponse` of gatehouse/web makes one).
 *
 * @example const { status, headers, body } = errorResponse(error) // RFC 6750 status, WWW-Authenticate, JSON
 */
export function errorResponse(error: GatehouseError, options: ErrorResponseOptions = {}): ErrorResponse {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  }
  if (error.status === 503) {
    headers['retry-after'] = '5'
  } else {
    headers['www-authenticate'] = challengesFor(error, options)
    if (error.dpopNonce !== undefined) headers['dpop-nonce'] = error.dpopNonce
  }
  const body: ErrorBody = {
    error: error.error ?? (error.status === 503 ? 'temporarily_unavailable' : 'unauthorized'),
    error_description: error.description,
    code: error.code,
  }
  if (error.required !== undefined) body.required = error.required
  return { status: error.status, headers, body }
}

/**
 * The `WWW-Authenticate` value: one challenge per offered scheme (RFC 7235 §4.1 allows several in one
 * field), the error attributes on the one for the scheme the request used.
 */
function challengesFor(error: GatehouseError, options: ErrorResponseOptions): string {
  const { realm, dpopAlgorithms, bearer = true, resourceMetadata: resource_metadata } = options
  const dpop = dpopAlgorithms !== undefined && dpopAlgorithms.length > 0
  const proofFault = error.error === 'invalid_dpop_proof' || error.error === 'use_dpop_nonce'
  const on: 'bearer' | 'dpop' =
    dpop && (proofFault || !bearer || options.scheme === 'dpop') ? 'dpop' : 'bearer'
  const detail: ChallengeParams = {
    error: error.error,
    error_description: error.error === undefined ? undefined : error.description,
    scope: error.code === 'ERR_POLICY_SCOPE' ? error.scope : undefined,
  }
  const challenges: string[] = []
  if (bearer || !dpop)
    challenges.push(formatChallenge({ realm, ...(on === 'bearer' ? detail : {}), resource_metadata }))
  if (dpop) {
    const algs = dpopAlgorithms.join(' ')
    challenges.push(
      formatChallenge({ realm, ...(on === 'dpop' ? detail : {}), algs, resource_metadata }, 'DPoP'),
    )
  }
  return challenges.join(', ')
}
