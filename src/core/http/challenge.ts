/**
 * The one `WWW-Authenticate` builder (RFC 6750 §3, RFC 7235 §4.1) and the one error response shape.
 * Adapters render what `errorResponse` returns (through `gate.reject`, which adds the gate's `realm` and
 * reports to `onRejection`); they never build a challenge or a body themselves.
 */
import type { ErrorCode, GatehouseError, RequirementSummary } from '../errors.js'

export interface ChallengeParams {
  realm?: string
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
export function formatChallenge(params: ChallengeParams = {}): string {
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
  return attributes.length === 0 ? 'Bearer' : `Bearer ${attributes.join(', ')}`
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
    headers['www-authenticate'] = formatChallenge({
      realm: options.realm,
      error: error.error,
      error_description: error.error === undefined ? undefined : error.description,
      scope: error.code === 'ERR_POLICY_SCOPE' ? error.scope : undefined,
    })
  }
  const body: ErrorBody = {
    error: error.error ?? (error.status === 503 ? 'temporarily_unavailable' : 'unauthorized'),
    error_description: error.description,
    code: error.code,
  }
  if (error.required !== undefined) body.required = error.required
  return { status: error.status, headers, body }
}
